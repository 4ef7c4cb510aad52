"""Integrate a velocity field dz/dt = v(z, t) with a fixed-step explicit scheme."""

from __future__ import annotations

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
