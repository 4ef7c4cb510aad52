"""Integrate a velocity field dz/dt = v(z, t) with a fixed-step explicit scheme."""

from __future__ import annotations

import math
import numbers
import warnings

import torch

from ._checks import as_matrix


def integrate(field, x0, steps: int = 100, method: str = "rk4", return_path: bool = False,
              t0: float = 0.0, t1: float = 1.0) -> torch.Tensor:
    """Solve dz/dt = field(z, t) from z(t0) = x0 to t1 in ``steps`` equal steps.

    ``field(z, t)`` takes z (n, d) and t (n, 1) and must return velocities of shape (n, d).
    ``method`` is "euler", "midpoint" or "rk4". Returns z(t1), or with ``return_path=True``
    the (steps + 1, n, d) tensor of all states. The time nodes never leave [t0, t1] (the last
    one is t1 exactly, in any dtype); a non-finite result gives a RuntimeWarning."""
    if not callable(field):
        raise TypeError(f"field must be callable as field(z, t), got {type(field).__name__}")
    if method not in ("euler", "midpoint", "rk4"):
        raise ValueError(f"method must be 'euler', 'midpoint' or 'rk4', got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    for name, value in (("t0", t0), ("t1", t1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    steps, t0, t1 = int(steps), float(t0), float(t1)
    z = as_matrix(x0, "x0")
    n, h = z.shape[0], (t1 - t0) / steps

    def node(k: float) -> float:
        """t0 + k·h, computed so that k = steps gives t1 exactly."""
        return t1 if k == steps else t0 + (t1 - t0) * (k / steps)

    def f(state, s):
        out = field(state, torch.full((n, 1), s, dtype=state.dtype, device=state.device))
        if not isinstance(out, torch.Tensor):
            try:
                out = torch.as_tensor(out, device=state.device)
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"field(z, t) must return a tensor of shape {tuple(state.shape)}, "
                                f"got {type(out).__name__}") from None
        if out.shape != state.shape:
            raise ValueError(f"field(z, t) must return velocities of the shape of z, {tuple(state.shape)}, "
                             f"got {tuple(out.shape)}")
        return out

    path = [z]
    for k in range(steps):
        s, mid, end = node(k), node(k + 0.5), node(k + 1)
        if method == "euler":
            z = z + h * f(z, s)
        elif method == "midpoint":
            z = z + h * f(z + 0.5 * h * f(z, s), mid)
        else:
            k1 = f(z, s)
            k2 = f(z + 0.5 * h * k1, mid)
            k3 = f(z + 0.5 * h * k2, mid)
            k4 = f(z + h * k3, end)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if return_path:
            path.append(z)
    if not torch.isfinite(z).all():
        warnings.warn("integrate: the solution contains NaN or infinite values (the field returned them, or "
                      "the solution blew up; try more steps)", RuntimeWarning, stacklevel=2)
    return torch.stack(path) if return_path else z


class ODEPaths:
    """The paths of a velocity field: ``path(x, t)`` solves dz/dt = v(z, t), z(0) = x, up to t
    (RK4, ``steps`` steps on [0, 1]), so that a field can be scored like a map with paths.

    The trajectory of the last ``x`` is kept (recognised by its storage, shape and version, so
    a slice of the same tensor hits and an in-place change misses): asking for several t on
    the grid k/steps costs one integration; other t are integrated to exactly."""

    def __init__(self, field, steps: int = 50):
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
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
