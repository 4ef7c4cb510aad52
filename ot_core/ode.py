"""Integrate a velocity field dz/dt = v(z, t) with a fixed-step explicit scheme."""

from __future__ import annotations

import math

import torch

from ._checks import as_matrix


def integrate(field, x0, steps: int = 100, method: str = "rk4", return_path: bool = False,
              t0: float = 0.0, t1: float = 1.0) -> torch.Tensor:
    """Solve dz/dt = field(z, t) from z(t0) = x0 to t1 in ``steps`` equal steps.

    ``field(z, t)`` takes z (n, d) and t (n, 1). ``method`` is "euler", "midpoint" or "rk4".
    Returns z(t1), or with ``return_path=True`` the (steps + 1, n, d) tensor of all states."""
    if not callable(field):
        raise TypeError(f"field must be callable as field(z, t), got {type(field).__name__}")
    if method not in ("euler", "midpoint", "rk4"):
        raise ValueError(f"method must be 'euler', 'midpoint' or 'rk4', got {method!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    z = as_matrix(x0, "x0")
    n, h = z.shape[0], (t1 - t0) / steps

    def f(state, s):
        return field(state, torch.full((n, 1), s, dtype=state.dtype, device=state.device))

    path = [z]
    for k in range(steps):
        s = t0 + k * h
        if method == "euler":
            z = z + h * f(z, s)
        elif method == "midpoint":
            z = z + h * f(z + 0.5 * h * f(z, s), s + 0.5 * h)
        else:
            k1 = f(z, s)
            k2 = f(z + 0.5 * h * k1, s + 0.5 * h)
            k3 = f(z + 0.5 * h * k2, s + 0.5 * h)
            k4 = f(z + h * k3, s + h)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if return_path:
            path.append(z)
    return torch.stack(path) if return_path else z


class ODEPaths:
    """The paths of a velocity field: ``path(x, t)`` solves dz/dt = v(z, t), z(0) = x, up to t
    (RK4, ``steps`` steps on [0, 1]), so that a field can be scored like a map with paths.

    The trajectory of the last ``x`` is kept (recognised by its storage, shape and version, so
    a slice of the same tensor hits and an in-place change misses): asking for several t on
    the grid k/steps costs one integration; other t are integrated to exactly."""

    def __init__(self, field, steps: int = 50):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        self.field, self.steps, self._key, self._traj = field, steps, None, None

    def _trajectory(self, x):
        x = as_matrix(x, "x")
        key = (x.data_ptr(), x.storage_offset(), tuple(x.shape), tuple(x.stride()), x._version, str(x.device))
        if key != self._key:
            self._key, self._traj = key, integrate(self.field, x, steps=self.steps, return_path=True)
        return self._traj

    def map(self, x):
        return self._trajectory(x)[-1]

    def path(self, x, t):
        t = float(t)
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"t must lie in [0, 1], got {t}")
        k = round(self.steps * t)
        if abs(self.steps * t - k) < 1e-9:
            return self._trajectory(x)[k]
        return integrate(self.field, x, steps=max(1, math.ceil(self.steps * t)), t1=t)
