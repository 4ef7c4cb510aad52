"""Closed-form answers for Gaussian source and target (chapter 20 of the book derives them).

For L = ½|v|² + (quadratic, isotropic potential) the optimal coupling is the Brenier map
T*(x) = m1 + A(x − m0) and the optimal paths are

    X_t = a(t)·x + b(t)·T*(x) + c(t),      a(0) = b(1) = 1, a(1) = b(0) = 0, c(0) = c(1) = 0,

with a, b, c read off the (linear) Euler–Lagrange equation. ``AffinePaths`` implements
everything from a, b, c; the functions below fill them in."""

from __future__ import annotations

import math

import torch

from ._checks import as_matrix, as_time
from .distributions import Gaussian


def sqrtm(S: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix."""
    vals, vecs = torch.linalg.eigh(S)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def brenier_matrix(cov0: torch.Tensor, cov1: torch.Tensor) -> torch.Tensor:
    """A = Σ0^{-1/2} (Σ0^{1/2} Σ1 Σ0^{1/2})^{1/2} Σ0^{-1/2}, the linear part of the W2 map."""
    r0 = sqrtm(cov0)
    r0_inv = torch.linalg.inv(r0)
    A = r0_inv @ sqrtm(r0 @ cov1 @ r0) @ r0_inv
    return 0.5 * (A + A.T)


def _check_gaussian(dist, name):
    if not isinstance(dist, Gaussian):
        raise TypeError(f"{name} must be an ot_core.Gaussian, got {type(dist).__name__}")


class AffinePaths:
    """Exact OT paths X_t = a(t) x + b(t) T*(x) + c(t) between two Gaussians.

    ``coeffs(t)`` returns a(t), b(t), c(t) and their time derivatives for a float64 tensor
    t of shape (n, 1): a, b, a', b' of shape (n, 1); c, c' broadcastable to (n, d).
    ``cost`` is the optimal expected action E_μ c(x, T*(x)), set by the constructor functions."""

    def __init__(self, source: Gaussian, target: Gaussian, coeffs, cost: float, name: str):
        _check_gaussian(source, "source")
        _check_gaussian(target, "target")
        if source.dim != target.dim:
            raise ValueError(f"source has dimension {source.dim} but target has dimension {target.dim}")
        self.source, self.target, self.dim = source, target, source.dim
        self.m0, self.m1 = source.mean, target.mean
        self.A = brenier_matrix(source.cov, target.cov)
        self._coeffs, self.cost, self.name = coeffs, float(cost), name

    # the terms of the path, for (n, 1) times (float64, on the device of t)
    def _terms(self, t: torch.Tensor):
        return tuple(torch.as_tensor(v, dtype=torch.float64).to(t.device).expand(t.shape[0], -1)
                     for v in self._coeffs(t.double()))

    def _params(self, device: torch.device):
        """m0, m1, A on ``device`` (copied once): inputs may live on any device."""
        cache = self.__dict__.setdefault("_device_copies", {})
        if str(device) not in cache:
            cache[str(device)] = tuple(v.to(device) for v in (self.m0, self.m1, self.A))
        return cache[str(device)]

    def _inputs(self, x, t=None):
        x = as_matrix(x, "x", dim=self.dim)
        dtype = x.dtype
        x = x.double()
        return (x, None if t is None else as_time(t, x.shape[0], like=x), dtype)

    def _image(self, x):
        m0, m1, A = self._params(x.device)
        return m1 + (x - m0) @ A

    def map(self, x) -> torch.Tensor:
        """T*(x) = m1 + A(x − m0)."""
        x, _, dtype = self._inputs(x)
        return self._image(x).to(dtype)

    def path(self, x, t) -> torch.Tensor:
        """X_t for particles starting at x."""
        x, t, dtype = self._inputs(x, t)
        a, b, c, *_ = self._terms(t)
        return (a * x + b * self._image(x) + c).to(dtype)

    def velocity_along(self, x, t) -> torch.Tensor:
        """d/dt X_t for particles starting at x."""
        x, t, dtype = self._inputs(x, t)
        _, _, _, da, db, dc = self._terms(t)
        return (da * x + db * self._image(x) + dc).to(dtype)

    def velocity(self, z, t) -> torch.Tensor:
        """The Eulerian velocity field v(z, t): the velocity of the particle found at z at time t."""
        z, t, dtype = self._inputs(z, t)
        a, b, c, da, db, dc = self._terms(t)
        m0, m1, A = self._params(z.device)
        # X_t = M_t x + b (m1 − A m0) + c with M_t = a I + b A, which shares A's eigenvectors:
        # invert it through A = Q diag(λ) Qᵀ, one (d, d) product, not one solve per particle
        lam, Q = torch.linalg.eigh(A)
        rhs = z - b * (m1 - m0 @ A) - c
        x = ((rhs @ Q) / (a + b * lam)) @ Q.T
        return (da * x + db * (m1 + (x - m0) @ A) + dc).to(dtype)

    def marginal_moments(self, t: float):
        """Mean and covariance of μ_t = law of X_t (a Gaussian)."""
        a, b, c, *_ = self._terms(torch.full((1, 1), float(t), dtype=torch.float64))
        a, b, c = float(a[0, 0]), float(b[0, 0]), c[0]
        M = a * torch.eye(self.dim, dtype=torch.float64) + b * self.A
        mean = a * self.m0 + b * self.m1 + c
        return mean, M @ self.source.cov @ M.T

    def marginal(self, t: float) -> Gaussian:
        """μ_t as a Gaussian distribution."""
        return Gaussian(*self.marginal_moments(t))

    def __repr__(self):
        return f"AffinePaths({self.name}, dim={self.dim}, cost={self.cost:.6g})"


def _moments(source: Gaussian, target: Gaussian):
    """E|x|², E|y|² and E x·y for x ~ μ, y = T*(x)."""
    A = brenier_matrix(source.cov, target.cov)
    ex2 = float(source.mean @ source.mean + source.cov.trace())
    ey2 = float(target.mean @ target.mean + target.cov.trace())
    exy = float(source.mean @ target.mean + (A @ source.cov).trace())
    return ex2, ey2, exy


def w2_squared(source: Gaussian, target: Gaussian) -> float:
    """W₂²(μ, ν) = |m0 − m1|² + tr(Σ0 + Σ1 − 2(Σ0^{1/2} Σ1 Σ0^{1/2})^{1/2})."""
    _check_gaussian(source, "source")
    _check_gaussian(target, "target")
    r0 = sqrtm(source.cov)
    dm = source.mean - target.mean
    return float(dm @ dm + (source.cov + target.cov - 2 * sqrtm(r0 @ target.cov @ r0)).trace())


def moment_matched(source_samples, target_samples) -> AffinePaths:
    """The W2 map between the Gaussians with the samples' means and covariances, with
    straight-line paths: exact for Gaussian pairs, the usual first guess otherwise (also
    ``baselines.linear_map``)."""
    xs = as_matrix(source_samples, "source_samples").double().cpu()
    ys = as_matrix(target_samples, "target_samples", dim=xs.shape[1]).double().cpu()
    return gaussian(*(Gaussian(s.mean(0), _sample_covariance(s)) for s in (xs, ys)))


def _sample_covariance(s: torch.Tensor) -> torch.Tensor:
    """The covariance of the rows of s; where it is singular (one sample, or samples on a
    subspace such as images with constant pixels) a ridge of 1e-6 of its mean variance makes
    it positive definite, so that it still defines a Gaussian."""
    d = s.shape[1]
    cov = torch.cov(s.T).reshape(d, d) if s.shape[0] > 1 else torch.zeros(d, d, dtype=s.dtype)
    scale = cov.diagonal().mean().clamp_min(1e-12)
    if torch.linalg.eigvalsh(0.5 * (cov + cov.T)).min() <= 1e-9 * scale:
        cov = 0.5 * (cov + cov.T) + 1e-6 * scale * torch.eye(d, dtype=s.dtype)
    return cov


def gaussian(source: Gaussian, target: Gaussian) -> AffinePaths:
    """Quadratic cost L = ½|v|²: straight paths, cost ½ W₂²."""
    def coeffs(t):
        one, zero = torch.ones_like(t), torch.zeros_like(t)
        return 1 - t, t, zero, -one, one, zero

    paths = AffinePaths(source, target, coeffs, 0.5 * w2_squared(source, target), "kinetic")
    paths.w2 = math.sqrt(max(2 * paths.cost, 0.0))
    return paths


def harmonic(source: Gaussian, target: Gaussian, omega: float, sign: int = +1) -> AffinePaths:
    """L = ½|v|² + sign·(ω²/2)|x|² between Gaussians (0 < ω < π when sign = −1).

    sign=+1: a = sinh(ω(1−t))/sinh ω, b = sinh(ωt)/sinh ω, and
    c(x, y) = ω/(2 sinh ω)·[(|x|² + |y|²) cosh ω − 2 x·y]; sign=−1: the same with sin, cos."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    omega = float(omega)
    if not omega > 0 or (sign == -1 and omega >= math.pi):
        raise ValueError(f"omega must be positive (and < pi for sign=-1), got {omega}")
    s, co = (torch.sinh, torch.cosh) if sign == 1 else (torch.sin, torch.cos)
    w = torch.tensor(omega, dtype=torch.float64)
    den = s(w)

    def coeffs(t):
        return (s(w * (1 - t)) / den, s(w * t) / den, torch.zeros_like(t),
                -w * co(w * (1 - t)) / den, w * co(w * t) / den, torch.zeros_like(t))

    ex2, ey2, exy = _moments(source, target)
    cost = float(w / (2 * den) * ((ex2 + ey2) * co(w) - 2 * exy))
    return AffinePaths(source, target, coeffs, cost, f"harmonic(omega={omega}, sign={sign:+d})")


def constant_force(source: Gaussian, target: Gaussian, g) -> AffinePaths:
    """L = ½|v|² − g·x: X_t = (1−t)x + t T*(x) + ½ g t(1−t), and
    c(x, y) = ½|y − x|² − g·(x + y)/2 − |g|²/24."""
    g = torch.as_tensor(g, dtype=torch.float64).reshape(-1)
    if g.shape[0] != source.dim:
        raise ValueError(f"g has dimension {g.shape[0]} but source has dimension {source.dim}")

    def coeffs(t):
        one, gt = torch.ones_like(t), g.to(t.device)
        return 1 - t, t, 0.5 * gt * t * (1 - t), -one, one, 0.5 * gt * (1 - 2 * t)

    ex2, ey2, exy = _moments(source, target)
    gm = float(g @ (source.mean + target.mean))
    cost = 0.5 * (ex2 + ey2 - 2 * exy) - 0.5 * gm - float(g @ g) / 24
    return AffinePaths(source, target, coeffs, cost, f"constant_force(g={g.tolist()})")
