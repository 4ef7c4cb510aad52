"""Lagrangians L(x, v, t). Any callable with this signature works: x, v are (n, d) tensors,
t is an (n, 1) tensor, and the result is the (n,) tensor of costs per particle.

The classes here are ½|v|² plus a potential, L = ½|v|² + V(x, t). Optimal paths obey the
Euler–Lagrange equation ẍ = ∇V(x, t): minimising the action, particles linger where V is
low and hurry through (or go around) where it is high."""

from __future__ import annotations

import math

import torch


def kinetic_energy(v: torch.Tensor) -> torch.Tensor:
    return 0.5 * (v * v).sum(-1)


def _like(owner, name: str, x: torch.Tensor) -> torch.Tensor:
    """``owner.<name>`` on the device and dtype of ``x``, copied once and kept (no copy per call)."""
    cache = owner.__dict__.setdefault("_copies", {})
    key = (name, x.device, x.dtype)
    if key not in cache:
        cache[key] = getattr(owner, name).to(device=x.device, dtype=x.dtype)
    return cache[key]


class Lagrangian:
    """L(x, v, t) = ½|v|² + V(x, t). Subclasses define ``potential``."""

    def potential(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def __call__(self, x: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return kinetic_energy(v) + self.potential(x, t)

    def to_dict(self) -> dict:
        """Parameters of a built-in Lagrangian, so that a saved Geodesic can rebuild it."""
        return {"type": type(self).__name__}


class Kinetic(Lagrangian):
    """L = ½|v|²: the cost is ½ W₂², optimal paths are straight lines."""

    def __repr__(self):
        return "Kinetic()"


class Harmonic(Lagrangian):
    """L = ½|v|² + sign·(ω²/2)|x|².

    sign=+1 pulls paths towards the origin (ẍ = ω²x); sign=-1 is the oscillator (ẍ = −ω²x),
    whose minimisation problem is well posed only for ω < π (a path of duration 1 must not
    reach a conjugate point)."""

    def __init__(self, omega: float, sign: int = +1):
        if sign not in (1, -1):
            raise ValueError(f"sign must be +1 or -1, got {sign!r}")
        omega = float(omega)
        if not math.isfinite(omega) or omega <= 0:
            raise ValueError(f"omega must be a positive number, got {omega}")
        if sign == -1 and omega >= math.pi:
            raise ValueError(f"omega must be < pi for sign=-1 (the action is unbounded below otherwise), got {omega}")
        self.omega, self.sign = omega, sign

    def potential(self, x, t):
        return self.sign * 0.5 * self.omega**2 * (x * x).sum(-1)

    def to_dict(self):
        return {"type": "Harmonic", "omega": self.omega, "sign": self.sign}

    def __repr__(self):
        return f"Harmonic(omega={self.omega}, sign={self.sign:+d})"


class ConstantForce(Lagrangian):
    """L = ½|v|² − g·x: optimal paths are parabolas, ẍ = −g, bending towards +g."""

    def __init__(self, g):
        self.g = torch.as_tensor(g, dtype=torch.float32).reshape(-1)
        if not torch.isfinite(self.g).all():
            raise ValueError("g contains NaN or infinite values")

    def potential(self, x, t):
        if x.shape[-1] != self.g.shape[0]:
            raise ValueError(f"g has dimension {self.g.shape[0]} but x has dimension {x.shape[-1]}")
        return -(x @ _like(self, "g", x))

    def to_dict(self):
        return {"type": "ConstantForce", "g": self.g.tolist()}

    def __repr__(self):
        return f"ConstantForce(g={self.g.tolist()})"


class Potential(Lagrangian):
    """L = ½|v|² + V(x, t) for any V: (x (n, d), t (n, 1)) -> (n,), time-dependent or not."""

    def __init__(self, V):
        if not callable(V):
            raise TypeError(f"V must be callable as V(x, t), got {type(V).__name__}")
        self.V = V

    def potential(self, x, t):
        out = self.V(x, t)
        if out.shape != x.shape[:1]:
            raise ValueError(f"V(x, t) must return shape ({x.shape[0]},), got {tuple(out.shape)}")
        return out

    def to_dict(self):
        return {"type": "Potential", "V": self.V.to_dict() if hasattr(self.V, "to_dict") else None}

    def __repr__(self):
        return f"Potential({self.V!r})"


class GaussianBump:
    """A smooth obstacle for ``Potential``: V(x) = height · exp(−|x − center|² / (2 width²)).

    With a large height the cheapest paths go around the bump."""

    def __init__(self, center, width: float = 0.5, height: float = 10.0):
        self.center = torch.as_tensor(center, dtype=torch.float32).reshape(-1)
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        self.width, self.height = float(width), float(height)

    def __call__(self, x, t=None):
        r2 = ((x - _like(self, "center", x)) ** 2).sum(-1)
        return self.height * torch.exp(-0.5 * r2 / self.width**2)

    def inside(self, x, radius: float | None = None) -> torch.Tensor:
        """Boolean mask of points within ``radius`` (default: one width) of the centre."""
        radius = self.width if radius is None else radius
        return ((x - _like(self, "center", x)) ** 2).sum(-1) < radius**2

    def to_dict(self):
        return {"type": "GaussianBump", "center": self.center.tolist(), "width": self.width, "height": self.height}

    def __repr__(self):
        return f"GaussianBump(center={self.center.tolist()}, width={self.width}, height={self.height})"


def from_dict(spec: dict | None):
    """Rebuild a built-in Lagrangian from ``to_dict()``; None where it cannot be rebuilt."""
    if not spec:
        return None
    kind = spec.get("type")
    if kind == "Kinetic":
        return Kinetic()
    if kind == "Harmonic":
        return Harmonic(spec["omega"], spec["sign"])
    if kind == "ConstantForce":
        return ConstantForce(spec["g"])
    if kind == "Potential" and spec.get("V") and spec["V"].get("type") == "GaussianBump":
        v = spec["V"]
        return Potential(GaussianBump(v["center"], v["width"], v["height"]))
    return None


def check_lagrangian(lagrangian) -> None:
    if not callable(lagrangian):
        raise TypeError(f"lagrangian must be callable as L(x, v, t), got {type(lagrangian).__name__}")
