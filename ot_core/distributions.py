"""Samplers. A distribution is any object with ``.dim`` and ``.sample(n, generator=None)``
returning a float32 tensor of shape ``(n, dim)``; the three classes here are the usual ones."""

from __future__ import annotations

import torch

from ._checks import as_matrix


def _check_cov(cov: torch.Tensor, name: str) -> torch.Tensor:
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {tuple(cov.shape)}")
    if not torch.isfinite(cov).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if not torch.allclose(cov, cov.T, atol=1e-8 * (1 + cov.abs().max().item())):
        raise ValueError(f"{name} must be symmetric")
    if torch.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError(f"{name} must be positive definite")
    return cov


class Gaussian:
    """The normal distribution N(mean, cov)."""

    def __init__(self, mean, cov):
        self.mean = torch.as_tensor(mean, dtype=torch.float64).reshape(-1)
        if not torch.isfinite(self.mean).all():
            raise ValueError("mean contains NaN or infinite values")
        d = self.mean.shape[0]
        self.cov = _check_cov(torch.as_tensor(cov, dtype=torch.float64), "cov")
        if self.cov.shape[0] != d:
            raise ValueError(f"cov has shape {tuple(self.cov.shape)} but mean has dimension {d}")
        self.dim = d
        self._chol = torch.linalg.cholesky(self.cov)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return (self.mean + z @ self._chol.T).float()

    def __repr__(self):
        return f"Gaussian(dim={self.dim})"


class GaussianMixture:
    """A mixture of Gaussians; ``covs`` is (k, d, d), or one (d, d) matrix shared by all."""

    def __init__(self, means, covs, weights=None):
        means = torch.as_tensor(means, dtype=torch.float64)
        if means.ndim != 2:
            raise ValueError(f"means must have shape (k, d), got {tuple(means.shape)}")
        k, d = means.shape
        covs = torch.as_tensor(covs, dtype=torch.float64)
        if covs.ndim == 2:
            covs = covs.expand(k, d, d)
        if covs.shape != (k, d, d):
            raise ValueError(f"covs must have shape ({k}, {d}, {d}) or ({d}, {d}), got {tuple(covs.shape)}")
        if weights is None:
            weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
        weights = torch.as_tensor(weights, dtype=torch.float64).reshape(-1)
        if weights.shape[0] != k or not torch.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be {k} non-negative numbers with a positive sum")
        self.components = [Gaussian(m, _check_cov(c, f"covs[{i}]")) for i, (m, c) in enumerate(zip(means, covs))]
        self.means, self.covs = means, covs.clone()
        self.weights = weights / weights.sum()
        self.dim = d

    @property
    def mean(self) -> torch.Tensor:
        return self.weights @ self.means

    @property
    def cov(self) -> torch.Tensor:
        m = self.mean
        second = sum(w * (c + torch.outer(mu, mu)) for w, c, mu in zip(self.weights, self.covs, self.means))
        return second - torch.outer(m, m)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        labels = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        chol = torch.stack([c._chol for c in self.components])
        return (self.means[labels] + torch.einsum("nij,nj->ni", chol[labels], z)).float()

    def __repr__(self):
        return f"GaussianMixture(k={len(self.components)}, dim={self.dim})"


class Empirical:
    """The empirical measure of the rows of ``samples``; ``sample`` draws rows with replacement."""

    def __init__(self, samples):
        self.samples = as_matrix(samples, "samples").float()
        self.dim = self.samples.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = torch.randint(len(self.samples), (n,), generator=generator)
        return self.samples[idx]

    def __repr__(self):
        return f"Empirical(n={len(self.samples)}, dim={self.dim})"
