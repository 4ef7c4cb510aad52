"""Samplers. A distribution is any object with ``.dim`` and ``.sample(n, generator=None)``
returning a float32 tensor of shape ``(n, dim)``; the three classes here are the usual ones.

They draw on the device of ``generator`` (the CPU without one), so that a training loop on a
GPU never copies batches from the host. Their parameters are copied to a device once and kept."""

from __future__ import annotations

import torch

from ._checks import as_matrix


def _device(generator) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


class _OnDevice:
    """Copies of some tensors on each device they are used on, made once."""

    def _on(self, device: torch.device, *names: str):
        cache = self.__dict__.setdefault("_device_copies", {})
        key = (str(device),) + names
        if key not in cache:
            cache[key] = tuple(getattr(self, name).to(device) for name in names)
        return cache[key]


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


class Gaussian(_OnDevice):
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
        device = _device(generator)
        mean, chol = self._on(device, "mean", "_chol")
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64, device=device)
        return (mean + z @ chol.T).float()

    def __repr__(self):
        return f"Gaussian(dim={self.dim})"


class GaussianMixture(_OnDevice):
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
        self._chols = torch.stack([c._chol for c in self.components])      # (k, d, d)

    @property
    def mean(self) -> torch.Tensor:
        return self.weights @ self.means

    @property
    def cov(self) -> torch.Tensor:
        m = self.mean
        second = sum(w * (c + torch.outer(mu, mu)) for w, c, mu in zip(self.weights, self.covs, self.means))
        return second - torch.outer(m, m)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = _device(generator)
        weights, means, chols = self._on(device, "weights", "means", "_chols")
        labels = torch.multinomial(weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64, device=device)
        # every component's transform of z, then each row's own: O(k·n·d) memory, no host sync
        noise = (z @ chols.transpose(-1, -2)).gather(0, labels.view(1, n, 1).expand(1, n, self.dim))[0]
        return (means[labels] + noise).float()

    def __repr__(self):
        return f"GaussianMixture(k={len(self.components)}, dim={self.dim})"


class Empirical(_OnDevice):
    """The empirical measure of the rows of ``samples``; ``sample`` draws rows with replacement
    on the device of ``generator`` (the rows are copied there once)."""

    def __init__(self, samples):
        self.samples = as_matrix(samples, "samples").float()
        self.dim = self.samples.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = _device(generator) if generator is not None else self.samples.device
        (samples,) = self._on(device, "samples")
        idx = torch.randint(len(samples), (n,), generator=generator, device=device)
        return samples[idx]

    def __repr__(self):
        return f"Empirical(n={len(self.samples)}, dim={self.dim})"
