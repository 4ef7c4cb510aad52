"""Algorithm 1 (``fit_geodesic``) and Algorithm 2 (``fit_velocity``).

Algorithm 1 solves the saddle problem

    min_T max_φ  E_μ ∫₀¹ L(T(x,t), ∂_t T(x,t), t) dt − E_μ φ(T(x,1)) + E_ν φ(y)

by alternating ``critic_steps`` ascent steps of the critic φ with ``path_steps`` descent steps
of the path network T (the losses are in :mod:`ot_core.losses`). Algorithm 2 freezes T and
regresses a velocity network v(z, t) on the velocities ∂_t T(x, t) seen at the points
z = T(x, t).

Both loops run on one device without reading from it at every step: batches are drawn there,
the losses are read once every ``log_every`` steps, and divergence is checked at each read."""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from pathlib import Path

import torch

from . import _io, exact, metrics
from . import losses as L
from ._checks import check_distribution
from ._train import (DivergenceError, TrainingLog, cosine, descend, gauss_legendre, generator,  # noqa: F401
                     progress_bar, resolve_device, scale_lr, set_trainable, checked_sampler, time_nodes)
from .config import (AUTO_CRITIC_INPUT_GAIN, AUTO_ENERGY_WEIGHT, AUTO_FOURIER_FEATURES, CRITIC_GAIN_MAX_DIM,
                     MATCHING_MAX_DIM, MOMENTS_MAX_DIM, MOMENTS_MAX_MISMATCH, GeodesicConfig, VelocityConfig,
                     make_config)
from .lagrangians import Harmonic, Kinetic, check_lagrangian
from .nets import VelocityNet, build
from .results import Geodesic, VelocityField, build_nets

_HINT = "Try smaller learning rates (lr_path, lr_critic), more path_steps, or gradient_penalty > 0."
_REFERENCE = 4096        # samples drawn once to standardise the networks and to scale the checks
# warm_start="matching": Adam steps (and their learning rate) of the regression of T(·, 1) onto the exact
# matching, and of the critic's gradient onto the momentum at its end points
MATCH_STEPS, MATCH_CRITIC_STEPS, MATCH_LR = 4000, 500, 3e-3
RELAX_STEPS = 300        # steps that bend the start's straight paths to a Lagrangian other than the kinetic one


def _check_problem(lagrangian, x: torch.Tensor, y: torch.Tensor) -> float:
    """Check ``lagrangian`` on straight lines between independent pairs (x, y), and return the
    scale of the problem: the larger of |straight-line action| and ½E|y − x|²."""
    t, w = gauss_legendre(8, x.device)
    pos = (1 - t) * x + t * y                                      # (8, n, d)
    vel = (y - x).expand_as(pos)
    K, n, d = pos.shape
    vel = vel.reshape(K * n, d).clone().requires_grad_(True)
    with torch.enable_grad():
        out = lagrangian(pos.reshape(K * n, d), vel, t.expand(K, n, 1).reshape(K * n, 1))
    if not isinstance(out, torch.Tensor) or out.shape != (K * n,):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"lagrangian(x, v, t) must return a tensor of shape (n,) = ({K * n},) for x, v of "
                         f"shape ({K * n}, {d}) and t of shape ({K * n}, 1), got {shape}")
    if not out.is_floating_point():
        raise TypeError(f"lagrangian(x, v, t) must return floating-point values, got {out.dtype}")
    if not torch.isfinite(out).all():
        raise ValueError("lagrangian(x, v, t) returned NaN or infinite values on straight lines between "
                         "source and target samples")
    if not out.requires_grad:
        raise ValueError("lagrangian(x, v, t) does not depend on v through operations torch can differentiate "
                         "(was it detached, or computed outside torch?): the paths could not be trained")
    straight = float((w @ out.detach().view(K, n).to(w.dtype)).mean())
    kinetic = float(0.5 * ((y - x) ** 2).sum(-1).mean())
    return max(abs(straight), kinetic, 1e-12)


def _warn_if_ill_posed(lagrangian) -> None:
    if isinstance(lagrangian, Harmonic) and lagrangian.sign == -1 and lagrangian.omega >= math.pi / 2:
        warnings.warn(
            f"{lagrangian!r}: for ω ≥ π/2 the static cost c(x, y) is concave in the end point y "
            "(its |y|² coefficient ω cos ω / (2 sin ω) is ≤ 0), so against a critic that grows at most linearly "
            "(an MLP) the minimax problem has no saddle point on unbounded data and T(·, 1) can run away; "
            "the moment-matched start adds a quadratic part to the critic that can hold it. Training stops "
            "with a DivergenceError if it runs away.",
            RuntimeWarning, stacklevel=3)


def _optimizers(optimizers, path_net, critic, cfg):
    if optimizers is None:
        return (torch.optim.Adam(path_net.parameters(), lr=cfg.lr_path, betas=cfg.betas),
                torch.optim.Adam(critic.parameters(), lr=cfg.lr_critic, betas=cfg.betas,
                                 weight_decay=cfg.critic_weight_decay))
    if callable(optimizers):
        return optimizers(path_net.parameters(), "path"), optimizers(critic.parameters(), "critic")
    if isinstance(optimizers, (tuple, list)) and len(optimizers) == 2 and all(
            isinstance(o, torch.optim.Optimizer) for o in optimizers):
        return tuple(optimizers)
    raise TypeError("optimizers must be None, a pair (optimizer of T, optimizer of the critic) or a callable "
                    f"(params, role) -> optimizer with role 'path' or 'critic', got {type(optimizers).__name__}")


def _warm_start_linear(path_net, draw_source, draw_target, cfg) -> None:
    """Regress T(·, 1) onto the moment-matched Gaussian (linear) map."""
    lin = exact.moment_matched(draw_source(4096), draw_target(4096))
    # its parameters on the training device once: no checks (and host reads) in the loop
    m0, m1, A = lin._params(next(path_net.parameters()).device)
    opt = torch.optim.Adam(path_net.F.parameters(), lr=1e-3)
    for _ in range(cfg.warm_start_steps):
        x = draw_source(cfg.batch_size)
        target = (m1 + (x.double() - m0) @ A).float()
        descend(opt, ((path_net.map(x) - target) ** 2).sum(-1).mean())


def _moment_mismatch(x_ref: torch.Tensor, y_ref: torch.Tensor) -> float | None:
    """The test behind the "auto" settings, ``metrics.moment_mismatch``: how far the
    moment-matched map, fitted on one half of the samples, sends the other half from the target.
    None where the moments are not to be trusted:
    above MOMENTS_MAX_DIM dimensions, or a degenerate sample covariance (an eigenvalue below 1e-4
    of their mean, where the map would divide by nearly nothing). Run once, before training,
    on CPU copies of the reference samples."""
    n, d = x_ref.shape
    if d > MOMENTS_MAX_DIM:
        return None
    for s in (x_ref, y_ref):
        eig = torch.linalg.eigvalsh(torch.cov(s.T.double()).reshape(d, d))
        if not bool(eig.min() > 1e-4 * eig.mean().clamp_min(1e-300)):
            return None
    return metrics.moment_mismatch(x_ref, y_ref)


def _relax_paths(path_net, lagrangian, x_ref, steps: int = RELAX_STEPS) -> None:
    """Minimise the action over G alone (T(x, 1) = x + F(x) does not depend on G, so the end
    points stay where they are): the cheapest paths to the start's end points, without a critic."""
    t, w = gauss_legendre(8, x_ref.device)
    opt = torch.optim.Adam(path_net.G.parameters(), lr=1e-3)
    for step in range(steps):
        x = x_ref[(step * 512) % len(x_ref):][:512]
        pos, vel, _ = L.path_terms(path_net, x, t)
        act = L.action(lagrangian, pos, vel, t, w)
        descend(opt, act)
    if not bool(torch.isfinite(act)):            # one read, after the loop
        raise DivergenceError(f"the action became {float(act.detach())} while the start bent its paths to the Lagrangian "
                              "(before step 0). Pass warm_start=\"none\" to start at the identity map.")


def _start_at_moments(path_net, critic, lagrangian, x_ref, x_cpu, y_cpu) -> None:
    """Start the game near its saddle point: T(·, 1) at the moment-matched Gaussian map of the
    reference samples, with straight paths, and φ at the quadratic that makes T stationary
    (see :func:`_critic_at_rest`). For the kinetic cost between Gaussians both are exact up to
    sampling error."""
    for net, name, part in ((path_net, "path_net", "affine"), (critic, "critic", "Q")):
        if getattr(net, part, None) is None:
            raise ValueError(f'warm_start="moments" needs the default {name} (or one with `{part}` and '
                             f'`set_{"affine" if part == "affine" else "quadratic"}`); pass warm_start="none" '
                             f'with networks of your own')
    lin = exact.moment_matched(x_cpu, y_cpu)
    path_net.set_affine(lin.m0, lin.m1, lin.A)
    if not isinstance(lagrangian, Kinetic):      # bend the paths to the Lagrangian, end points fixed
        _relax_paths(path_net, lagrangian, x_ref)
    _critic_at_rest(path_net, critic, lagrangian, x_ref)


def _start_at_matching(path_net, critic, lagrangian, x_ref, y_ref, x_cpu, y_cpu, gen) -> None:
    """Start the game at the exact discrete optimal transport between the reference samples, the
    start for targets with several modes: the permutation σ that minimises Σ ½|x_i − y_σ(i)|²
    (``ot.emd``, once, on the host); T(·, 1) regressed onto x_i ↦ y_σ(i) with straight paths
    (bent to the Lagrangian where it is not the kinetic one); and φ fitted so that T is
    stationary (:func:`_critic_at_rest`). The matching already cuts the source between the
    target's components, at the resolution of the samples; the game refines it. Both
    regressions run MATCH_STEPS and MATCH_CRITIC_STEPS Adam steps on the device."""
    if getattr(critic, "Q", None) is None:
        raise ValueError('warm_start="matching" needs the default critic (or one with `Q` and '
                         '`set_quadratic`); pass warm_start="none" with networks of your own')
    import ot   # POT, a dependency of the library: the exact solver

    n = len(x_cpu)
    weights = torch.full((n,), 1.0 / n, dtype=torch.float64)
    cost = 0.5 * torch.cdist(x_cpu.double(), y_cpu.double()) ** 2
    sigma = ot.emd(weights, weights, cost, numItermax=100 * n * n).argmax(1)
    matched = y_ref[sigma.to(y_ref.device)]
    opt = torch.optim.Adam(path_net.parameters(), lr=MATCH_LR)
    for _ in range(MATCH_STEPS):
        i = torch.randint(n, (512,), generator=gen, device=x_ref.device)
        loss = ((path_net.map(x_ref[i]) - matched[i]) ** 2).sum(-1).mean()
        descend(opt, loss)
    if not bool(torch.isfinite(loss)):            # one read, after the loop
        raise DivergenceError(f"the regression of T(·, 1) onto the matching became {float(loss.detach())} "
                              "(the start, before step 0). Pass warm_start=\"none\" to start at the identity map.")
    if not isinstance(lagrangian, Kinetic):
        _relax_paths(path_net, lagrangian, x_ref)
    _critic_at_rest(path_net, critic, lagrangian, x_ref, gen, fit_steps=MATCH_CRITIC_STEPS)


def _critic_at_rest(path_net, critic, lagrangian, x_ref, gen=None, fit_steps: int = 0) -> None:
    """φ at the quadratic whose gradient best matches the terminal momentum ∂_v L at T(x, 1), the
    condition that makes T stationary; with ``fit_steps`` > 0 the whole critic is then regressed
    (∇φ onto the momentum at the end points), for maps that no quadratic holds."""
    one = torch.ones(len(x_ref), 1, device=x_ref.device, dtype=x_ref.dtype)
    with torch.no_grad():
        end, vel = path_net.position_and_velocity(x_ref, one)
    with torch.enable_grad():
        vel = vel.detach().requires_grad_(True)
        momentum = torch.autograd.grad(lagrangian(end, vel, one).sum(), vel)[0]
    if not bool(torch.isfinite(momentum).all()):
        raise DivergenceError("the momentum ∂_v L at the start's end points is not finite (before step 0). "
                              "Pass warm_start=\"none\" to start at the identity map.")
    critic.set_quadratic(end, momentum)
    if fit_steps:
        opt = torch.optim.Adam(critic.parameters(), lr=MATCH_LR)
        for _ in range(fit_steps):
            i = torch.randint(len(end), (512,), generator=gen, device=end.device)
            y = end[i].requires_grad_(True)
            (grad,) = torch.autograd.grad(critic(y).sum(), y, create_graph=True)
            descend(opt, ((grad - momentum[i]) ** 2).sum(-1).mean())


def fit_geodesic(source, target, lagrangian=None, config=None, *, seed: int = 0, device=None,
                 progress=None, path_net=None, critic=None, optimizers=None, callback=None,
                 checkpoint=None, checkpoint_every: int = 100, resume: bool = True,
                 **overrides) -> Geodesic:
    """Algorithm 1: learn the optimal paths T(x, t) from ``source`` to ``target``.

    ``source`` and ``target`` are distributions (anything with ``.dim`` and ``.sample``);
    ``lagrangian`` is any callable L(x, v, t) (default ½|v|²); keyword arguments override
    fields of :class:`GeodesicConfig`. Returns a :class:`Geodesic`, whose ``config`` records what
    the ``"auto"`` settings chose: the start at the moment-matched map (``warm_start="moments"``)
    where that map nearly fits the target; where the target has several modes, the energy term
    (``energy_weight=0.3``), 64 random Fourier features in the map network
    (``fourier_features``) and, in 2-D, a critic that reads twice its standardised input
    (``critic_input_gain=2``) and the start at the exact matching of 4,096 samples
    (``warm_start="matching"``; the identity start above 2-D).

    For research use:

    - ``path_net``, ``critic``: networks of your own (``path_net`` with ``map(x)`` and
      ``position_and_velocity(x, t)``, like :class:`~ot_core.nets.PathNet`; ``critic(y) -> (n,)``);
      they are moved to ``device`` and trained in place.
    - ``optimizers``: a pair (optimizer of T, optimizer of φ), or a callable
      ``(params, role) -> optimizer`` with role ``"path"`` or ``"critic"``. The cosine schedule
      scales each optimizer's own learning rate.
    - ``callback(step, record)``: called after every outer step; ``record`` holds the step's
      ``path_loss``, ``critic_loss``, ``action`` and ``gap`` as 0-d tensors on the device
      (``float()`` reads one) and ``"geodesic"``, the Geodesic being trained. Return True to
      stop training.
    - ``checkpoint``: a file that the training state is saved to (atomically) every
      ``checkpoint_every`` steps and at the end, so that an interrupted run (Ctrl-C, a lost
      notebook session) loses at most ``checkpoint_every`` steps; with ``resume=True`` an
      existing file with the same settings and seed is continued from, and the result is the
      same as that of an uninterrupted run."""
    cfg = make_config(GeodesicConfig, config, overrides)
    check_distribution(source, "source")
    check_distribution(target, "target")
    if source.dim != target.dim:
        raise ValueError(f"source has dimension {source.dim} but target has dimension {target.dim}")
    lagrangian = Kinetic() if lagrangian is None else lagrangian
    check_lagrangian(lagrangian)
    _warn_if_ill_posed(lagrangian)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(step, record), got {type(callback).__name__}")
    if not isinstance(checkpoint_every, int) or isinstance(checkpoint_every, bool) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    device = resolve_device(device)
    gen = generator(seed, device)
    draw_source = checked_sampler(source, "source", gen, device, seed)
    draw_target = checked_sampler(target, "target", gen, device, seed + 1)

    own_nets = path_net is None, critic is None
    x_ref, y_ref = draw_source(_REFERENCE), draw_target(_REFERENCE)
    # the start's statistics are computed on host copies: two reads, not one per operation
    auto = "auto" in (cfg.warm_start, cfg.energy_weight, cfg.fourier_features, cfg.critic_input_gain)
    ref_cpu = (x_ref.cpu(), y_ref.cpu()) if auto or cfg.warm_start in ("moments", "matching") else None
    if auto:   # the result's config records what was chosen
        mismatch = _moment_mismatch(*ref_cpu)
        fits = mismatch is not None and mismatch <= MOMENTS_MAX_MISMATCH
        modes = mismatch is not None and mismatch > MOMENTS_MAX_MISMATCH   # several modes
        if cfg.warm_start == "auto":
            if all(own_nets) and fits:
                cfg.warm_start = "moments"
            elif all(own_nets) and modes and source.dim <= MATCHING_MAX_DIM:
                cfg.warm_start = "matching"
            else:
                cfg.warm_start = "none"
        if cfg.energy_weight == "auto":
            cfg.energy_weight = AUTO_ENERGY_WEIGHT if modes else 0.0
        if cfg.fourier_features == "auto":
            cfg.fourier_features = AUTO_FOURIER_FEATURES if modes else 0
        if cfg.critic_input_gain == "auto":
            cfg.critic_input_gain = AUTO_CRITIC_INPUT_GAIN if modes and source.dim <= CRITIC_GAIN_MAX_DIM else 1.0
    default_T, default_phi = build_nets(source.dim, cfg, seed, device)
    path_net = default_T if path_net is None else path_net.to(device)
    critic = default_phi if critic is None else critic.to(device)
    both = torch.cat([x_ref, y_ref])
    for net, own in zip((path_net, critic), own_nets):
        if own:
            net.set_scale(both)
    scale = _check_problem(lagrangian, x_ref[:1024], y_ref[:1024])
    # the energy term in the units of the action: λ · (rms distance of independent pairs) · energy distance
    length = float(((y_ref[:1024] - x_ref[:1024]) ** 2).sum(-1).mean().sqrt())
    energy_weight = cfg.energy_weight * length
    critic_scale = getattr(critic, "scale", 1.0)      # the gradient penalty is in standardised units

    opt_T, opt_phi = _optimizers(optimizers, path_net, critic, cfg)
    averaged = None
    history = {k: [] for k in ("step", "path_loss", "critic_loss", "action", "gap", "seconds")}
    first = 0
    if checkpoint is not None and resume and Path(checkpoint).exists():
        first, history, averaged = _restore(checkpoint, cfg, seed, path_net, critic, opt_T, opt_phi, gen)
    elif cfg.warm_start == "linear":
        _warm_start_linear(path_net, draw_source, draw_target, cfg)
    elif cfg.warm_start == "moments":
        _start_at_moments(path_net, critic, lagrangian, x_ref, *ref_cpu)
    elif cfg.warm_start == "matching":
        _start_at_matching(path_net, critic, lagrangian, x_ref, y_ref, *ref_cpu, gen)
    if cfg.ema > 0 and averaged is None:
        averaged = copy.deepcopy(path_net)
    result = Geodesic(averaged if averaged is not None else path_net, critic, cfg, history, lagrangian)
    path_net.train(), critic.train()

    bar = progress_bar(progress, cfg.steps, "Algorithm 1")
    if bar is not None:
        bar.update(first)
    limits = {k: 1000 * scale for k in ("path_loss", "critic_loss", "action", "gap")}
    log = TrainingLog(history, cfg.log_every, bar, _HINT, limits)
    fixed_times = gauss_legendre(cfg.n_times, device) if cfg.time_sampling == "gauss-legendre" else None
    B = cfg.batch_size
    step = first - 1

    def save_state(done: int) -> None:
        log.flush()
        _io.save({"step": done, "seed": seed, "config": dataclasses.asdict(cfg), "history": history,
                  "path_net": path_net.state_dict(), "critic": critic.state_dict(),
                  "averaged": None if averaged is None else averaged.state_dict(),
                  "opt_T": opt_T.state_dict(), "opt_phi": opt_phi.state_dict(),
                  "generator": gen.get_state()}, checkpoint, "training state of fit_geodesic")

    try:
        for step in range(first, cfg.steps):
            factor = cosine(step, cfg.steps, cfg.lr_decay)
            scale_lr(opt_T, factor)
            scale_lr(opt_phi, factor)

            # critic ascent on E_ν φ(y) − E_μ φ(T(x, 1))
            set_trainable(critic, True)
            for _ in range(cfg.critic_steps):
                x, y = draw_source(B), draw_target(B)
                with torch.no_grad():
                    mapped = path_net.map(x)
                critic_loss, gap = L.critic_loss(critic, mapped, y, cfg.gradient_penalty, critic_scale)
                descend(opt_phi, critic_loss, cfg.grad_clip)

            # descent of T on E_μ ∫ L dt − E_μ φ(T(x, 1)), the critic frozen
            set_trainable(critic, False)
            for _ in range(cfg.path_steps):
                x = draw_source(B)
                y = draw_target(B) if energy_weight > 0 else None
                t, w = fixed_times or time_nodes(cfg.n_times, cfg.time_sampling, B, gen, device)
                path_loss, action = L.path_loss(path_net, critic, lagrangian, x, t, w, y, energy_weight)
                descend(opt_T, path_loss, cfg.grad_clip)
                if averaged is not None:
                    with torch.no_grad():
                        for p_avg, p in zip(averaged.parameters(), path_net.parameters()):
                            p_avg.lerp_(p, 1 - cfg.ema)

            values = dict(path_loss=path_loss.detach(), critic_loss=critic_loss.detach(), action=action.detach(),
                          gap=gap)
            log.log(step, **values)
            if callback is not None and callback(step, {**values, "geodesic": result}):
                break
            if checkpoint is not None and (step + 1) % checkpoint_every == 0 and step + 1 < cfg.steps:
                save_state(step + 1)
        log.flush()
    finally:
        set_trainable(critic, True)
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        save_state(step + 1)
    result.path_net.eval(), critic.eval()
    return result


def _restore(path, cfg, seed, path_net, critic, opt_T, opt_phi, gen):
    """Load a training state saved by ``fit_geodesic(checkpoint=...)`` into the live objects."""
    state = _io.load(path, "training state of fit_geodesic")
    saved = state["config"]
    differ = sorted(k for k, v in dataclasses.asdict(cfg).items() if saved.get(k) != v and k != "log_every")
    if differ or state["seed"] != seed:
        what = ", ".join(differ + (["seed"] if state["seed"] != seed else []))
        raise ValueError(f"{path} was saved with other settings ({what}); pass resume=False to start afresh, "
                         "or another checkpoint file")
    path_net.load_state_dict(state["path_net"])
    critic.load_state_dict(state["critic"])
    opt_T.load_state_dict(state["opt_T"])
    opt_phi.load_state_dict(state["opt_phi"])
    gen.set_state(state["generator"])
    averaged = None
    if state["averaged"] is not None:
        averaged = copy.deepcopy(path_net)
        averaged.load_state_dict(state["averaged"])
    return state["step"], state["history"], averaged


def fit_velocity(geo: Geodesic, source, config=None, *, seed: int = 0, device=None, progress=None,
                 net=None, optimizer=None, callback=None, **overrides) -> VelocityField:
    """Algorithm 2: regress v(z, t) on ∂_t T(x, t) at z = T(x, t), x ~ source, t ~ U[0, 1].

    ``geo`` is left where it is (a copy of its path network is used on ``device``). ``net``: a
    velocity network of your own, ``net(z, t) -> (n, d)``; ``optimizer``: an optimizer of its
    parameters; ``callback(step, record)`` as in :func:`fit_geodesic` (``record["loss"]``;
    return True to stop)."""
    cfg = make_config(VelocityConfig, config, overrides)
    if not isinstance(geo, Geodesic):
        raise TypeError(f"geo must be the Geodesic returned by fit_geodesic, got {type(geo).__name__}")
    check_distribution(source, "source")
    if source.dim != geo.dim:
        raise ValueError(f"source has dimension {source.dim} but geo has dimension {geo.dim}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(step, record), got {type(callback).__name__}")
    device = resolve_device(device)
    gen = generator(seed, device)
    draw_source = checked_sampler(source, "source", gen, device, seed)
    path_net = geo.path_net if geo.device == device else copy.deepcopy(geo.path_net).to(device)

    if net is None:
        net = build(VelocityNet, geo.dim, cfg.width, cfg.depth, cfg.activation, seed=seed)
        net.shift.copy_(geo.path_net.shift.cpu())
        net.scale.copy_(geo.path_net.scale.cpu())
    net = net.to(device).train()
    opt = optimizer if optimizer is not None else torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=cfg.betas)
    history = {"step": [], "loss": [], "seconds": []}
    bar = progress_bar(progress, cfg.steps, "Algorithm 2")
    log = TrainingLog(history, cfg.log_every, bar, "Try a smaller lr.")
    result = VelocityField(net, cfg, history)
    net.train()
    try:
        for step in range(cfg.steps):
            scale_lr(opt, cosine(step, cfg.steps, cfg.lr_decay))
            x = draw_source(cfg.batch_size)
            t = torch.rand(cfg.batch_size, 1, generator=gen, device=device)
            loss = L.velocity_loss(net, path_net, x, t)
            descend(opt, loss)
            log.log(step, loss=loss.detach())
            if callback is not None and callback(step, {"loss": loss.detach(), "velocity": result}):
                break
        log.flush()
    finally:
        if bar is not None:
            bar.close()
    net.eval()
    return result
