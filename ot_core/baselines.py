"""What a reader would otherwise use: the identity, the moment-matched linear map, and
exact discrete OT on samples (POT) with its barycentric map and straight-line paths."""

from __future__ import annotations

import numpy as np
import torch

from ._checks import as_matrix, as_time
from . import exact
from .distributions import Gaussian


class Identity:
    """T(x) = x, paths that stand still."""

    def map(self, x):
        return as_matrix(x, "x")

    def path(self, x, t):
        return as_matrix(x, "x")


def linear_map(source_samples, target_samples) -> exact.AffinePaths:
    """The W2 map between the Gaussians with the samples' means and covariances, with
    straight-line paths. Exact for Gaussian pairs; the usual first guess otherwise."""
    xs = as_matrix(source_samples, "source_samples").double()
    ys = as_matrix(target_samples, "target_samples", dim=xs.shape[1]).double()
    fit = [Gaussian(s.mean(0), torch.cov(s.T).reshape(s.shape[1], s.shape[1])) for s in (xs, ys)]
    return exact.gaussian(*fit)


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
        self.y = as_matrix(y, "y", dim=self.x.shape[1]).double()
        M = torch.cdist(self.x, self.y) ** 2 / 2 if cost is None else torch.as_tensor(cost, dtype=torch.float64)
        if M.shape != (len(self.x), len(self.y)):
            raise ValueError(f"cost must have shape ({len(self.x)}, {len(self.y)}), got {tuple(M.shape)}")
        a = np.full(len(self.x), 1.0 / len(self.x))
        b = np.full(len(self.y), 1.0 / len(self.y))
        self.plan = torch.as_tensor(ot.emd(a, b, M.numpy(), numItermax=10_000_000))
        self.cost = float((self.plan * M).sum())
        self.targets = (self.plan @ self.y) / self.plan.sum(1, keepdim=True)

    def map(self, x=None):
        """Barycentric images of the source samples (``x`` must be those samples or None)."""
        if x is not None and not torch.equal(as_matrix(x, "x").double(), self.x):
            raise ValueError("x must be the source samples the plan was computed on (discrete OT has no out-of-sample map)")
        return self.targets.float()

    def path(self, x=None, t=0.5):
        t = as_time(t, len(self.x), like=self.x)
        return ((1 - t) * self.x + t * self.targets).float()


def flow_matching(source, target, *, steps: int = 2000, batch_size: int = 512, width: int = 128, depth: int = 3,
                  lr: float = 2e-3, sigma: float = 0.0, seconds: float | None = None, seed: int = 0,
                  device=None, progress=None):
    """Flow matching with minibatch-OT couplings (OT-CFM; Tong et al., 2024) through ``torchcfm``
    (``pip install --no-deps torchcfm``): pairs in each batch are coupled by exact discrete OT,
    and a velocity network of the same form as Algorithm 2's regresses the straight-line
    velocities. Stops after ``steps`` or ``seconds`` of wall-clock, whichever comes first.
    Returns a :class:`~ot_core.VelocityField`; its map is ``integrate(field, x)``."""
    import time

    from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

    from ._checks import check_distribution, draw
    from .nets import VelocityNet
    from .solver import VelocityConfig, VelocityField, _progress, descend, record, resolve_device

    check_distribution(source, "source")
    check_distribution(target, "target")
    if source.dim != target.dim:
        raise ValueError(f"source has dimension {source.dim} but target has dimension {target.dim}")
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)
    numpy_state = np.random.get_state()  # torchcfm draws the OT pairs with numpy's global RNG
    np.random.seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = VelocityNet(source.dim, width, depth)
        net.set_scale(torch.cat([draw(source, 4096, generator, "source"), draw(target, 4096, generator, "target")]))
        net.to(device)
        matcher = ExactOptimalTransportConditionalFlowMatcher(sigma=sigma)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        history = {"step": [], "loss": [], "seconds": []}
        bar = _progress(progress, steps, "OT-CFM")
        start = time.perf_counter()
        for step in range(steps):
            x0 = draw(source, batch_size, generator, "source").to(device)
            x1 = draw(target, batch_size, generator, "target").to(device)
            t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)  # draws t with torch's global RNG
            loss = ((net(xt, t.reshape(-1, 1)) - ut) ** 2).sum(-1).mean()
            descend(opt, loss, "the flow-matching loss", step, "Try a smaller lr.")
            record(history, bar, start, step=step, loss=loss.item())
            if seconds is not None and history["seconds"][-1] >= seconds:
                break
        if bar is not None:
            bar.close()
    np.random.set_state(numpy_state)
    config = VelocityConfig(steps=len(history["step"]), batch_size=batch_size, width=width, depth=depth, lr=lr)
    return VelocityField(net, config, history)
