"""Algorithm 1 (``fit_geodesic``) and Algorithm 2 (``fit_velocity``).

Algorithm 1 solves the saddle problem

    min_T max_φ  E_μ ∫₀¹ L(T(x,t), ∂_t T(x,t), t) dt − E_μ φ(T(x,1)) + E_ν φ(y)

by alternating one ascent step of the critic φ with ``path_steps`` descent steps of the
path network T. Algorithm 2 freezes T and regresses a velocity network v(z, t) on the
velocities ∂_t T(x, t) seen at the points z = T(x, t)."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ._checks import as_matrix, as_time, check_distribution, draw
from .lagrangians import Kinetic, check_lagrangian, from_dict
from .nets import Critic, PathNet, VelocityNet, mlp  # noqa: F401  (mlp re-exported for users)


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss."""


@dataclass
class GeodesicConfig:
    """Settings of Algorithm 1. The defaults reach about 0.1–0.2 % L2-UVP on the 2-D Gaussian example."""

    steps: int = 400                  # outer iterations (one critic update each)
    batch_size: int = 512
    width: int = 128                  # hidden units of the path network T
    depth: int = 3                    # hidden layers of T
    critic_width: int = 128
    critic_depth: int = 3
    activation: str = "silu"
    path_degree: int | None = 4       # G polynomial in t of this degree (exact ∂_t T); None: G(x, t) a network
    time_derivative: str = "jvp"      # how ∂_t T is computed when path_degree is None: jvp | autograd | finite_difference
    time_sampling: str = "gauss-legendre"   # or "uniform" (fresh random times every step)
    n_times: int = 8                  # time nodes (or random times) per particle
    path_steps: int = 3               # K_T: descent steps of T per critic step
    critic_steps: int = 1             # ascent steps of φ per outer iteration
    lr_path: float = 1e-3
    lr_critic: float = 1e-3
    betas: tuple = (0.5, 0.999)       # Adam betas of both networks
    lr_decay: float = 0.1             # learning rates decay (cosine) to this fraction of their start
    critic_weight_decay: float = 0.0
    gradient_penalty: float = 0.0     # λ·E_ν|∇φ|² added to the critic loss (inputs standardised)
    ema: float = 0.0                  # decay of an exponential moving average of T's weights (0: off);
                                      # the returned map is the average, the history the trained network
    warm_start: str = "none"          # "linear": start F at the moment-matched linear map
    warm_start_steps: int = 300
    grad_clip: float | None = None    # clip the gradient norm of both networks

    def __post_init__(self):
        for name in ("steps", "batch_size", "width", "depth", "critic_width", "critic_depth", "n_times",
                     "path_steps", "critic_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.time_sampling not in ("gauss-legendre", "uniform"):
            raise ValueError(f"time_sampling must be 'gauss-legendre' or 'uniform', got {self.time_sampling!r}")
        if self.warm_start not in ("none", "linear"):
            raise ValueError(f"warm_start must be 'none' or 'linear', got {self.warm_start!r}")
        for name in ("lr_path", "lr_critic"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"ema must lie in [0, 1), got {self.ema!r}")
        self.betas = tuple(self.betas)


@dataclass
class VelocityConfig:
    """Settings of Algorithm 2."""

    steps: int = 1000
    batch_size: int = 512
    width: int = 128
    depth: int = 3
    activation: str = "silu"
    lr: float = 2e-3
    betas: tuple = (0.9, 0.999)
    lr_decay: float = 0.02            # cosine decay to this fraction of lr

    def __post_init__(self):
        for name in ("steps", "batch_size", "width", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        self.betas = tuple(self.betas)


def make_config(cls, config, overrides: dict):
    """``config`` (an instance, a dict or None) with ``overrides`` applied; unknown keys raise."""
    if config is None:
        base = {}
    elif isinstance(config, cls):
        base = dataclasses.asdict(config)
    elif isinstance(config, dict):
        base = dict(config)
    else:
        raise TypeError(f"config must be a {cls.__name__}, a dict or None, got {type(config).__name__}")
    base.update(overrides)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(base) - known)
    if unknown:
        raise TypeError(f"unknown {cls.__name__} option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**base)


def resolve_device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _progress(progress, steps: int, desc: str):
    """A tqdm bar unless ``progress`` is False, or None under CI."""
    if progress is None:
        progress = os.environ.get("CI", "").lower() not in ("1", "true", "yes")
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=desc, leave=False)


def time_nodes(n_times: int, sampling: str, batch: int, generator, device):
    """Times (K, 1, 1) or (K, batch, 1) and quadrature weights (K,) summing to 1 on [0, 1]."""
    if sampling == "gauss-legendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_times)
        t = torch.tensor((nodes + 1) / 2, dtype=torch.float32).view(-1, 1, 1)
        return t.to(device), torch.tensor(weights / 2, dtype=torch.float32, device=device)
    # stratified uniform draws: one random time in each of K equal slices of [0, 1]
    u = torch.rand(n_times, batch, 1, generator=generator)
    t = (torch.arange(n_times).view(-1, 1, 1) + u) / n_times
    return t.to(device), torch.full((n_times,), 1.0 / n_times, device=device)


def _cosine(step: int, steps: int, final: float) -> float:
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1)))


def _check_finite(value: torch.Tensor, what: str, step: int, hint: str) -> None:
    if not torch.isfinite(value):
        raise DivergenceError(f"{what} became {value.item()} at step {step}: training diverged. {hint}")


def descend(optimizer, loss: torch.Tensor, what: str, step: int, hint: str, clip: float | None = None) -> None:
    """One optimizer step on ``loss``; a non-finite loss stops training with a DivergenceError."""
    _check_finite(loss, what, step, hint)
    optimizer.zero_grad()
    loss.backward()
    if clip:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, clip)
    optimizer.step()


def record(history: dict, bar, start: float, **values) -> None:
    """Append one step's values (and the elapsed seconds) to ``history``; advance the bar."""
    for key, value in values.items():
        history[key].append(value)
    history["seconds"].append(time.perf_counter() - start)
    if bar is not None:
        bar.update(1)


class Geodesic:
    """The result of Algorithm 1: the learned paths T(x, t), map T(x, 1) and critic φ."""

    def __init__(self, path_net: PathNet, critic: Critic, config: GeodesicConfig, history: dict,
                 lagrangian=None):
        self.path_net, self.critic = path_net.eval(), critic.eval()
        self.config, self.history, self.lagrangian = config, history, lagrangian
        self.dim = path_net.dim

    @property
    def device(self) -> torch.device:
        return self.path_net.shift.device

    def _prepare(self, x, t=None):
        x = as_matrix(x, "x", dim=self.dim)
        out_device = x.device
        x = x.to(self.device, torch.float32)
        if t is None:
            return x, None, out_device
        return x, as_time(t, x.shape[0], like=x), out_device

    @torch.no_grad()
    def path(self, x, t) -> torch.Tensor:
        """T(x, t): where the particle that starts at x is at time t."""
        x, t, dev = self._prepare(x, t)
        return self.path_net(x, t).to(dev)

    @torch.no_grad()
    def map(self, x) -> torch.Tensor:
        """T(x, 1), the transport map."""
        x, _, dev = self._prepare(x)
        return self.path_net.map(x).to(dev)

    @torch.no_grad()
    def velocity_along(self, x, t) -> torch.Tensor:
        """∂_t T(x, t): the velocity of the particle that started at x, at time t."""
        x, t, dev = self._prepare(x, t)
        return self.path_net.position_and_velocity(x, t)[1].to(dev)

    @torch.no_grad()
    def potential(self, y) -> torch.Tensor:
        """The critic φ(y) (a Kantorovich potential at the saddle point)."""
        y, _, dev = self._prepare(y)
        return self.critic(y).to(dev)

    def save(self, path) -> None:
        """Save weights, settings, history and (built-in) Lagrangian; loads with weights_only=True."""
        spec = self.lagrangian.to_dict() if hasattr(self.lagrangian, "to_dict") else None
        torch.save({"kind": "Geodesic", "dim": self.dim, "config": dataclasses.asdict(self.config),
                    "history": self.history, "lagrangian": spec,
                    "path_net": self.path_net.state_dict(), "critic": self.critic.state_dict()}, path)

    @classmethod
    def load(cls, path, lagrangian=None, device=None) -> "Geodesic":
        """Load a saved Geodesic. Pass ``lagrangian`` if it was not a built-in one."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("kind") != "Geodesic":
            raise ValueError(f"{path} does not hold a saved Geodesic")
        config = GeodesicConfig(**state["config"])
        path_net, critic = _build_nets(state["dim"], config)
        path_net.load_state_dict(state["path_net"])
        critic.load_state_dict(state["critic"])
        device = resolve_device(device)
        lagrangian = lagrangian if lagrangian is not None else from_dict(state["lagrangian"])
        return cls(path_net.to(device), critic.to(device), config, state["history"], lagrangian)

    def __repr__(self):
        return f"Geodesic(dim={self.dim}, steps={self.config.steps}, lagrangian={self.lagrangian!r})"


def _build_nets(dim: int, cfg: GeodesicConfig):
    path_net = PathNet(dim, cfg.width, cfg.depth, cfg.activation, cfg.path_degree, cfg.time_derivative)
    critic = Critic(dim, cfg.critic_width, cfg.critic_depth, cfg.activation)
    return path_net, critic


def _warm_start_linear(path_net: PathNet, source, target, cfg, generator, device):
    """Regress T(·, 1) onto the moment-matched Gaussian (linear) map."""
    from .baselines import linear_map

    lin = linear_map(draw(source, 4096, generator, "source"), draw(target, 4096, generator, "target"))
    opt = torch.optim.Adam(path_net.F.parameters(), lr=1e-3)
    for _ in range(cfg.warm_start_steps):
        x = draw(source, cfg.batch_size, generator, "source").to(device)
        loss = ((path_net.map(x) - lin.map(x)) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def fit_geodesic(source, target, lagrangian=None, config=None, *, seed: int = 0, device=None,
                 progress=None, **overrides) -> Geodesic:
    """Algorithm 1: learn the optimal paths T(x, t) from ``source`` to ``target``.

    ``source`` and ``target`` are distributions (anything with ``.dim`` and ``.sample``);
    ``lagrangian`` is any callable L(x, v, t) (default ½|v|²); keyword arguments override
    fields of :class:`GeodesicConfig`. Returns a :class:`Geodesic`."""
    cfg = make_config(GeodesicConfig, config, overrides)
    check_distribution(source, "source")
    check_distribution(target, "target")
    if source.dim != target.dim:
        raise ValueError(f"source has dimension {source.dim} but target has dimension {target.dim}")
    lagrangian = Kinetic() if lagrangian is None else lagrangian
    check_lagrangian(lagrangian)
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        path_net, critic = _build_nets(source.dim, cfg)
    x_ref, y_ref = draw(source, 4096, generator, "source"), draw(target, 4096, generator, "target")
    path_net.set_scale(torch.cat([x_ref, y_ref]))
    critic.set_scale(torch.cat([x_ref, y_ref]))
    path_net.to(device), critic.to(device)
    if cfg.warm_start == "linear":
        _warm_start_linear(path_net, source, target, cfg, generator, device)
    averaged = copy.deepcopy(path_net) if cfg.ema > 0 else None

    opt_T = torch.optim.Adam(path_net.parameters(), lr=cfg.lr_path, betas=cfg.betas)
    opt_phi = torch.optim.Adam(critic.parameters(), lr=cfg.lr_critic, betas=cfg.betas,
                               weight_decay=cfg.critic_weight_decay)
    history = {k: [] for k in ("step", "path_loss", "critic_loss", "action", "gap", "seconds")}
    bar = _progress(progress, cfg.steps, "Algorithm 1")
    hint = "Try smaller learning rates (lr_path, lr_critic), more path_steps, or gradient_penalty > 0."
    start = time.perf_counter()
    B = cfg.batch_size

    for step in range(cfg.steps):
        factor = _cosine(step, cfg.steps, cfg.lr_decay)
        for group in opt_T.param_groups:
            group["lr"] = cfg.lr_path * factor
        for group in opt_phi.param_groups:
            group["lr"] = cfg.lr_critic * factor

        # critic ascent on E_ν φ(y) − E_μ φ(T(x, 1))
        for _ in range(cfg.critic_steps):
            x = draw(source, B, generator, "source").to(device)
            y = draw(target, B, generator, "target").to(device)
            with torch.no_grad():
                x1 = path_net.map(x)
            if cfg.gradient_penalty > 0:
                y.requires_grad_(True)
            phi_y = critic(y)
            gap = phi_y.mean() - critic(x1).mean()
            critic_loss = -gap
            if cfg.gradient_penalty > 0:
                (grad,) = torch.autograd.grad(phi_y.sum(), y, create_graph=True)
                critic_loss = critic_loss + cfg.gradient_penalty * (grad**2).sum(-1).mean() / critic.scale**2
            descend(opt_phi, critic_loss, "the critic loss", step, hint, cfg.grad_clip)

        # descent of T on E_μ ∫ L dt − E_μ φ(T(x, 1))
        for _ in range(cfg.path_steps):
            x = draw(source, B, generator, "source").to(device)
            t, w = time_nodes(cfg.n_times, cfg.time_sampling, B, generator, device)
            pos, vel = path_net.position_and_velocity(x, t)
            K = pos.shape[0]
            lag = lagrangian(pos.reshape(K * B, -1), vel.reshape(K * B, -1), t.expand(K, B, 1).reshape(K * B, 1))
            action = (w @ lag.view(K, B)).mean()
            path_loss = action - critic(path_net.map(x)).mean()
            descend(opt_T, path_loss, "the path loss", step, hint, cfg.grad_clip)
            if averaged is not None:
                with torch.no_grad():
                    for p_avg, p in zip(averaged.parameters(), path_net.parameters()):
                        p_avg.lerp_(p, 1 - cfg.ema)

        record(history, bar, start, step=step, path_loss=path_loss.item(), critic_loss=critic_loss.item(),
               action=action.item(), gap=gap.item())
        if bar is not None and step % 20 == 0:
            bar.set_postfix(action=f"{action.item():.4g}", gap=f"{gap.item():.2e}")
    if bar is not None:
        bar.close()
    return Geodesic(averaged if averaged is not None else path_net, critic, cfg, history, lagrangian)


class VelocityField:
    """The result of Algorithm 2: an Eulerian velocity field, callable as ``vel(z, t)``."""

    def __init__(self, net: VelocityNet, config: VelocityConfig, history: dict):
        self.net, self.config, self.history = net.eval(), config, history
        self.dim = net.shift.shape[0]

    @torch.no_grad()
    def __call__(self, z, t) -> torch.Tensor:
        z = as_matrix(z, "z", dim=self.dim)
        dev = z.device
        z = z.to(self.net.shift.device, torch.float32)
        return self.net(z, as_time(t, z.shape[0], like=z)).to(dev)

    def save(self, path) -> None:
        torch.save({"kind": "VelocityField", "dim": self.dim, "config": dataclasses.asdict(self.config),
                    "history": self.history, "net": self.net.state_dict()}, path)

    @classmethod
    def load(cls, path, device=None) -> "VelocityField":
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("kind") != "VelocityField":
            raise ValueError(f"{path} does not hold a saved VelocityField")
        config = VelocityConfig(**state["config"])
        net = VelocityNet(state["dim"], config.width, config.depth, config.activation)
        net.load_state_dict(state["net"])
        return cls(net.to(resolve_device(device)), config, state["history"])

    def __repr__(self):
        return f"VelocityField(dim={self.dim}, steps={self.config.steps})"


def fit_velocity(geo: Geodesic, source, config=None, *, seed: int = 0, device=None, progress=None,
                 **overrides) -> VelocityField:
    """Algorithm 2: regress v(z, t) on ∂_t T(x, t) at z = T(x, t), x ~ source, t ~ U[0, 1]."""
    cfg = make_config(VelocityConfig, config, overrides)
    if not isinstance(geo, Geodesic):
        raise TypeError(f"geo must be the Geodesic returned by fit_geodesic, got {type(geo).__name__}")
    check_distribution(source, "source")
    if source.dim != geo.dim:
        raise ValueError(f"source has dimension {source.dim} but geo has dimension {geo.dim}")
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)
    path_net = geo.path_net.to(device)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = VelocityNet(geo.dim, cfg.width, cfg.depth, cfg.activation)
    net.shift.copy_(path_net.shift.cpu())
    net.scale.copy_(path_net.scale.cpu())
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=cfg.betas)
    history = {"step": [], "loss": [], "seconds": []}
    bar = _progress(progress, cfg.steps, "Algorithm 2")
    start = time.perf_counter()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * _cosine(step, cfg.steps, cfg.lr_decay)
        x = draw(source, cfg.batch_size, generator, "source").to(device)
        t = torch.rand(cfg.batch_size, 1, generator=generator).to(device)
        with torch.no_grad():
            z, u = path_net.position_and_velocity(x, t)
        loss = ((net(z, t) - u) ** 2).sum(-1).mean()
        descend(opt, loss, "the velocity loss", step, "Try a smaller lr.")
        record(history, bar, start, step=step, loss=loss.item())
    if bar is not None:
        bar.close()
    return VelocityField(net, cfg, history)
