"""Input validation shared by the library: every error names the argument at fault."""

from __future__ import annotations

import math

import torch


FLOAT32_MAX = float(torch.finfo(torch.float32).max)
TIME_TOLERANCE = 1e-9          # times this close outside [0, 1] are rounding, and are clamped


def as_matrix(x, name: str, dim: int | None = None, float32: bool = False) -> torch.Tensor:
    """Return ``x`` as a finite 2-D float tensor ``(n, d)``, or raise naming ``name``.

    With ``float32=True`` the result is float32, and values that are finite in a wider type
    but beyond the float32 range are refused (they would turn into infinities)."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except Exception as exc:  # pragma: no cover - message path
            raise TypeError(f"{name} must be a tensor or array, got {type(x).__name__}") from exc
    if x.is_complex():
        raise TypeError(f"{name} must hold real numbers, got {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D tensor of shape (n, d), got shape {tuple(x.shape)}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has dimension {x.shape[1]}, expected {dim}")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if float32 and x.dtype != torch.float32:
        if x.numel() and x.abs().max() > FLOAT32_MAX:
            raise ValueError(f"{name} has values beyond the float32 range (±{FLOAT32_MAX:.3g}) that the "
                             "networks compute in")
        x = x.float()
    return x


def as_time(t, n: int, name: str = "t", like: torch.Tensor | None = None) -> torch.Tensor:
    """Return times as an ``(n, 1)`` tensor in [0, 1]; ``t`` may be a float or an (n, 1)/(n,) tensor."""
    if t is None or isinstance(t, (str, bytes)):
        raise TypeError(f"{name} must be a float in [0, 1] or a tensor of shape ({n}, 1), got {type(t).__name__}")
    if isinstance(t, (int, float)):
        if not math.isfinite(t) or not -TIME_TOLERANCE <= t <= 1.0 + TIME_TOLERANCE:
            raise ValueError(f"{name} must lie in [0, 1], got {t}")
        t = min(max(float(t), 0.0), 1.0)
        out = torch.full((n, 1), t, dtype=like.dtype if like is not None else torch.float32)
    else:
        try:
            out = torch.as_tensor(t)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must be a float in [0, 1] or a tensor of shape ({n}, 1), "
                            f"got {type(t).__name__}") from None
        if out.is_complex():
            raise TypeError(f"{name} must hold real numbers, got {out.dtype}")
        if out.ndim == 0:
            out = out.expand(n).reshape(n, 1)
        elif out.ndim == 1:
            out = out.reshape(-1, 1)
        if out.ndim != 2 or out.shape[1] != 1 or out.shape[0] not in (1, n):
            raise ValueError(f"{name} must be a float or a tensor of shape ({n}, 1), got shape {tuple(out.shape)}")
        if not torch.isfinite(out).all() or (out < -TIME_TOLERANCE).any() or (out > 1 + TIME_TOLERANCE).any():
            raise ValueError(f"{name} must lie in [0, 1]")
        if out.is_floating_point():
            out = out.clamp(0.0, 1.0)                  # rounding of a time computed as t0 + k·h
        out = out.expand(n, 1)
    if like is not None:
        out = out.to(device=like.device, dtype=like.dtype)
    return out


def check_distribution(dist, name: str) -> None:
    """A distribution is any object with an integer ``.dim`` and a ``.sample(n, generator=None)``."""
    if not hasattr(dist, "dim") or not callable(getattr(dist, "sample", None)):
        raise TypeError(f"{name} must have a .dim attribute and a .sample(n, generator=None) method, "
                        f"got {type(dist).__name__}")
    if isinstance(dist.dim, bool) or not isinstance(dist.dim, int) or dist.dim < 1:
        raise ValueError(f"{name}.dim must be a positive integer, got {dist.dim!r}")


def draw(dist, n: int, generator, name: str) -> torch.Tensor:
    """Sample from ``dist`` and check what comes back."""
    x = dist.sample(n, generator=generator)
    x = as_matrix(x, f"samples of {name}", dim=dist.dim)
    if x.shape[0] != n:
        raise ValueError(f"{name}.sample({n}) returned {x.shape[0]} rows")
    return x.float()
