"""Samplers. A distribution is any object with ``.dim`` and ``.sample(n, generator=None)``
returning a float32 tensor of shape ``(n, dim)``; the three classes here are the usual ones.

They draw on the device of ``generator`` (the CPU without one), so that a training loop on a
GPU never copies batches from the host. Their parameters are copied to a device once and kept."""

from __future__ import annotations

import torch

import numbers

from ._checks import FLOAT32_MAX, as_matrix


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


def _tensor(value, name: str) -> torch.Tensor:
    """``value`` as a float64 tensor, or a TypeError that names ``name``."""
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from None


def _check_n(n) -> int:
    """The number of samples asked for: a non-negative integer."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def _check_range(mean: torch.Tensor, cov: torch.Tensor, name: str) -> None:
    """Samples are float32: refuse parameters whose samples would overflow it."""
    spread = float(cov.diagonal().max().sqrt()) if cov.numel() else 0.0
    if float(mean.abs().max()) + 10 * spread > FLOAT32_MAX:
        raise ValueError(f"{name} puts samples beyond the float32 range (±{FLOAT32_MAX:.3g}) that they are drawn in")


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
        mean = _tensor(mean, "mean")
        if mean.ndim > 1 or mean.numel() == 0:
            raise ValueError(f"mean must be a non-empty vector of shape (d,), got shape {tuple(mean.shape)}")
        self.mean = mean.reshape(-1)
        if not torch.isfinite(self.mean).all():
            raise ValueError("mean contains NaN or infinite values")
        d = self.mean.shape[0]
        self.cov = _check_cov(_tensor(cov, "cov"), "cov")
        if self.cov.shape[0] != d:
            raise ValueError(f"cov has shape {tuple(self.cov.shape)} but mean has dimension {d}")
        _check_range(self.mean, self.cov, "Gaussian(mean, cov)")
        self.dim = d
        self._chol = torch.linalg.cholesky(self.cov)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = _check_n(n)
        device = _device(generator)
        mean, chol = self._on(device, "mean", "_chol")
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64, device=device)
        return (mean + z @ chol.T).float()

    def __repr__(self):
        return f"Gaussian(dim={self.dim})"


class GaussianMixture(_OnDevice):
    """A mixture of Gaussians; ``covs`` is (k, d, d), or one (d, d) matrix shared by all."""

    def __init__(self, means, covs, weights=None):
        means = _tensor(means, "means")
        if means.ndim != 2 or means.shape[0] == 0 or means.shape[1] == 0:
            raise ValueError(f"means must have shape (k, d) with k ≥ 1 components, got {tuple(means.shape)}")
        k, d = means.shape
        covs = _tensor(covs, "covs")
        if covs.ndim == 2:
            covs = covs.expand(k, d, d)
        if covs.shape != (k, d, d):
            raise ValueError(f"covs must have shape ({k}, {d}, {d}) or ({d}, {d}), got {tuple(covs.shape)}")
        if weights is None:
            weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
        weights = _tensor(weights, "weights").reshape(-1)
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
        n = _check_n(n)
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
        self.samples = as_matrix(samples, "samples", float32=True)
        if self.samples.shape[0] == 0 or self.samples.shape[1] == 0:
            raise ValueError(f"samples must hold at least one row of at least one column, got shape "
                             f"{tuple(self.samples.shape)}")
        self.dim = self.samples.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = _check_n(n)
        device = _device(generator) if generator is not None else self.samples.device
        (samples,) = self._on(device, "samples")
        idx = torch.randint(len(samples), (n,), generator=generator, device=device)
        return samples[idx]

    def __repr__(self):
        return f"Empirical(n={len(self.samples)}, dim={self.dim})"
