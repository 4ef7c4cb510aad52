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
