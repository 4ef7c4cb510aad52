"""What a reader would otherwise use: the identity, the moment-matched linear map, and
exact discrete OT on samples (POT) with its barycentric map and straight-line paths."""

from __future__ import annotations

import numpy as np
import torch

from . import exact
from ._checks import as_matrix, as_time, check_distribution
from ._train import TrainingLog, checked_sampler, descend, generator, progress_bar, resolve_device
from .config import VelocityConfig
from .nets import VelocityNet, build
from .results import VelocityField


class Identity:
    """T(x) = x, paths that stand still."""

    def map(self, x):
        return as_matrix(x, "x")

    def path(self, x, t):
        return as_matrix(x, "x")


def linear_map(source_samples, target_samples) -> exact.AffinePaths:
    """The W2 map between the Gaussians with the samples' means and covariances, with
    straight-line paths (``exact.moment_matched``). Exact for Gaussian pairs; the usual first
    guess otherwise."""
    return exact.moment_matched(source_samples, target_samples)


def straight_paths(model):
    """Straight-line paths (1 − t)x + t·model.map(x): what the quadratic cost would do."""
    return _Straight(model)


class _Straight:
    def __init__(self, model):
        self.model = model

    def map(self, x):
        return self.model.map(x)

    def path(self, x, t):
        x = as_matrix(x, "x")
        t = as_time(t, x.shape[0], like=x)
        return (1 - t) * x + t * self.model.map(x).to(x)

    def velocity_along(self, x, t):
        x = as_matrix(x, "x")
        return self.model.map(x).to(x) - x


class DiscreteOT:
    """Exact OT between two sample sets (POT ``ot.emd``) for a cost matrix (default squared
    Euclidean). ``plan`` is the optimal coupling; ``map`` the barycentric projection of each
    source sample; ``path`` straight-line displacement interpolation."""

    def __init__(self, x, y, cost=None):
        import ot

        self.x = as_matrix(x, "x").double()
        self.y = as_matrix(y, "y", dim=self.x.shape[1]).double().to(self.x.device)
        if cost is None:
            M = torch.cdist(self.x, self.y) ** 2 / 2
        else:
            M = torch.as_tensor(cost, dtype=torch.float64).to(self.x.device)
        if M.shape != (len(self.x), len(self.y)):
            raise ValueError(f"cost must have shape ({len(self.x)}, {len(self.y)}), got {tuple(M.shape)}")
        a = torch.full((len(self.x),), 1.0 / len(self.x), dtype=torch.float64, device=self.x.device)
        b = torch.full((len(self.y),), 1.0 / len(self.y), dtype=torch.float64, device=self.x.device)
        self.plan = ot.emd(a, b, M, numItermax=10_000_000)     # POT's torch backend: on the device of x
        self.cost = float((self.plan * M).sum())
        self.targets = (self.plan @ self.y) / self.plan.sum(1, keepdim=True)

    def map(self, x=None):
        """Barycentric images of the source samples (``x`` must be those samples or None)."""
        if x is not None and not torch.equal(as_matrix(x, "x").double().to(self.x.device), self.x):
            raise ValueError("x must be the source samples the plan was computed on (discrete OT has no out-of-sample map)")
        return self.targets.float()

    def path(self, x=None, t=0.5):
        """Straight-line displacement interpolation of the source samples (``x``: those or None)."""
        if x is not None and not torch.equal(as_matrix(x, "x").double().to(self.x.device), self.x):
            raise ValueError("x must be the source samples the plan was computed on (discrete OT has no out-of-sample map)")
        t = as_time(t, len(self.x), like=self.x)
        return ((1 - t) * self.x + t * self.targets).float()


def flow_matching(source, target, *, steps: int = 2000, batch_size: int = 512, width: int = 128, depth: int = 3,
                  lr: float = 2e-3, sigma: float = 0.0, seconds: float | None = None, seed: int = 0,
                  device=None, progress=None):
    """Flow matching with minibatch-OT couplings (OT-CFM; Tong et al., 2024) through ``torchcfm``
    (``pip install --no-deps torchcfm``): pairs in each batch are coupled by exact discrete OT,
    and a velocity network of the same form as Algorithm 2's regresses the straight-line
    velocities, at a constant learning rate. Stops after ``steps`` or ``seconds`` of wall-clock,
    whichever comes first. Returns a :class:`~ot_core.VelocityField`; its map is
    ``integrate(field, x)``.

    torchcfm draws its coupling with NumPy's global random stream and, for ``sigma > 0``, its
    noise with torch's: both are seeded here and restored afterwards (not thread-safe)."""
    import time

    from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

    check_distribution(source, "source")
    check_distribution(target, "target")
    if source.dim != target.dim:
        raise ValueError(f"source has dimension {source.dim} but target has dimension {target.dim}")
    device = resolve_device(device)
    gen = generator(seed, device)
    draw_source = checked_sampler(source, "source", gen, device, seed)
    draw_target = checked_sampler(target, "target", gen, device, seed + 1)
    net = build(VelocityNet, source.dim, width, depth, seed=seed)
    net.set_scale(torch.cat([draw_source(4096), draw_target(4096)]).cpu())
    net.to(device)
    matcher = ExactOptimalTransportConditionalFlowMatcher(sigma=sigma)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = {"step": [], "loss": [], "seconds": []}
    bar = progress_bar(progress, steps, "OT-CFM")
    log = TrainingLog(history, 25, bar, "Try a smaller lr.")
    numpy_state = np.random.get_state()
    np.random.seed(seed)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.default_generator.manual_seed(seed)
            if device.type == "cuda":
                torch.cuda.manual_seed(seed)      # this device only, restored by fork_rng
            for step in range(steps):
                x0, x1 = draw_source(batch_size), draw_target(batch_size)
                t = torch.rand(batch_size, generator=gen, device=device)
                t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1, t=t)
                loss = ((net(xt, t.reshape(-1, 1)) - ut) ** 2).sum(-1).mean()
                descend(opt, loss)
                log.log(step, loss=loss.detach())
                if seconds is not None and time.perf_counter() - log.start >= seconds:
                    break
            log.flush()
    finally:
        np.random.set_state(numpy_state)
        if bar is not None:
            bar.close()
    config = VelocityConfig(steps=len(history["step"]), batch_size=batch_size, width=width, depth=depth, lr=lr,
                            lr_decay=1.0)
    return VelocityField(net, config, history)
