"""The reference problems shared by the tests, the benchmarks and the book."""

from __future__ import annotations

import math
import numbers

import torch

from .distributions import Gaussian, GaussianMixture


def _check_dim(d) -> int:
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    return int(d)


def gaussian_pair_2d():
    """The anisotropic 2-D pair: different means, correlations of opposite sign."""
    return (Gaussian([0.0, 0.0], [[1.0, 0.3], [0.3, 0.5]]),
            Gaussian([2.0, 1.0], [[0.5, -0.2], [-0.2, 1.5]]))


def random_covariance(d: int, generator: torch.Generator, low: float = 0.5, high: float = 2.0) -> torch.Tensor:
    """A random rotation of a diagonal matrix with eigenvalues uniform in [low, high]."""
    d = _check_dim(d)
    if not 0 < low <= high:
        raise ValueError(f"the eigenvalue range must satisfy 0 < low <= high, got low={low!r}, high={high!r}")
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))
    eig = low + (high - low) * torch.rand(d, generator=generator, dtype=torch.float64)
    return (q * eig) @ q.T


def gaussian_pair(d: int, seed: int = 0):
    """An anisotropic d-dimensional pair: N(0, Σ0) → N(m1, Σ1), Σ0 ≠ Σ1 random, m1 ~ N(0, I)."""
    d = _check_dim(d)
    gen = torch.Generator().manual_seed(seed)
    cov0 = random_covariance(d, gen)
    mean1 = torch.randn(d, generator=gen, dtype=torch.float64)
    return Gaussian(torch.zeros(d), cov0), Gaussian(mean1, random_covariance(d, gen))


class BrenierPair:
    """A non-Gaussian pair with a known W2 map: target = ∇ψ#source for the strictly convex
    ψ(x) = ½ xᵀAx + Σᵢ log cosh(xᵢ), A symmetric positive definite, so ∇ψ(x) = Ax + tanh(x)
    (Jacobian A + diag(1 − tanh²) ≻ 0). By Brenier's theorem ∇ψ is the optimal map; the
    target is sampled by pushing source samples through it."""

    def __init__(self, source, A):
        self.source, self.A, self.dim = source, torch.as_tensor(A, dtype=torch.float64), source.dim

    def map(self, x) -> torch.Tensor:
        """T*(x) = Ax + tanh(x)."""
        x = torch.as_tensor(x)
        A = self.A if self.A.device == x.device else self.A.to(x.device)
        return (x.double() @ A + torch.tanh(x.double())).to(x.dtype)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.map(self.source.sample(n, generator=generator)).float()

    def __repr__(self):
        return f"BrenierPair(dim={self.dim})"


def brenier_pair(d: int, seed: int = 0):
    """(source, target) with source N(0, Σ0) random and target ∇ψ#source (see :class:`BrenierPair`);
    ``target.map`` is the exact W2 map."""
    d = _check_dim(d)
    gen = torch.Generator().manual_seed(seed)
    source = Gaussian(torch.zeros(d), random_covariance(d, gen))
    return source, BrenierPair(source, random_covariance(d, gen))


def mixture_pair(d: int, seed: int = 0):
    """A mixture-to-mixture pair: 3 → 5 equally weighted Gaussian components, means ~ 2·N(0, I)
    (2-D: a square of 4 blobs → a ring of 8). No closed-form answer; judged by terminal W2."""
    d = _check_dim(d)
    if d == 2:
        sq = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 1.5
        ring = torch.stack([3 * torch.tensor([math.cos(a), math.sin(a)]) for a in [k * math.pi / 4 for k in range(8)]])
        return GaussianMixture(sq, 0.1 * torch.eye(2)), GaussianMixture(ring, 0.05 * torch.eye(2))
    gen = torch.Generator().manual_seed(seed)
    return (GaussianMixture(2 * torch.randn(3, d, generator=gen), 0.3 * torch.eye(d)),
            GaussianMixture(2 * torch.randn(5, d, generator=gen), 0.3 * torch.eye(d)))
