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
        """Parameters of a built-in Lagrangian, so that a saved Geodesic can rebuild it. ``class``
        is the qualified name of the object's class: a file rebuilds only the built-in classes
        themselves (a subclass, or a Lagrangian of the user's, is passed again on load)."""
        return {"type": type(self).__name__, "class": qualified_name(self)}


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
        if isinstance(sign, bool) or not isinstance(sign, (int, float)) or sign not in (1, -1):
            raise ValueError(f"sign must be +1 or -1, got {sign!r}")
        sign = int(sign)                                   # 1.0 and -1.0 are accepted as 1 and -1
        try:
            omega = float(omega)
        except (TypeError, ValueError):
            raise ValueError(f"omega must be a positive number, got {omega!r}") from None
        if not math.isfinite(omega) or omega <= 0 or not math.isfinite(omega * omega):
            raise ValueError(f"omega must be a positive number (with a finite square), got {omega}")
        if sign == -1 and omega >= math.pi:
            raise ValueError(f"omega must be < pi for sign=-1 (the action is unbounded below otherwise), got {omega}")
        self.omega, self.sign = omega, sign

    def potential(self, x, t):
        return self.sign * 0.5 * self.omega**2 * (x * x).sum(-1)

    def to_dict(self):
        return {"type": "Harmonic", "class": qualified_name(self), "omega": self.omega, "sign": self.sign}

    def __repr__(self):
        return f"Harmonic(omega={self.omega}, sign={int(self.sign):+d})"


class ConstantForce(Lagrangian):
    """L = ½|v|² − g·x: optimal paths are parabolas, ẍ = −g, bending towards +g."""

    def __init__(self, g):
        self.g = _vector(g, "g")

    def potential(self, x, t):
        if x.shape[-1] != self.g.shape[0]:
            raise ValueError(f"g has dimension {self.g.shape[0]} but x has dimension {x.shape[-1]}")
        return -(x @ _like(self, "g", x))

    def to_dict(self):
        return {"type": "ConstantForce", "class": qualified_name(self), "g": self.g.tolist()}

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
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"V(x, t) must return a tensor of shape ({x.shape[0]},), got {type(out).__name__}")
        if out.shape != x.shape[:1]:
            raise ValueError(f"V(x, t) must return shape ({x.shape[0]},), got {tuple(out.shape)}")
        return out

    def to_dict(self):
        V = self.V.to_dict() if type(self.V) is GaussianBump else {"class": qualified_name(self.V)}
        return {"type": "Potential", "class": qualified_name(self), "V": V}

    def __repr__(self):
        return f"Potential({self.V!r})"


class GaussianBump:
    """A smooth obstacle for ``Potential``: V(x) = height · exp(−|x − center|² / (2 width²)).

    With a large height the cheapest paths go around the bump."""

    def __init__(self, center, width: float = 0.5, height: float = 10.0):
        self.center = _vector(center, "center")
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        self.width, self.height = float(width), float(height)

    def _check(self, x):
        if x.shape[-1] != self.center.shape[0]:
            raise ValueError(f"GaussianBump center has dimension {self.center.shape[0]} but x has dimension "
                             f"{x.shape[-1]}")

    def __call__(self, x, t=None):
        self._check(x)
        r2 = ((x - _like(self, "center", x)) ** 2).sum(-1)
        return self.height * torch.exp(-0.5 * r2 / self.width**2)

    def inside(self, x, radius: float | None = None) -> torch.Tensor:
        """Boolean mask of points within ``radius`` (default: one width) of the centre."""
        radius = self.width if radius is None else radius
        self._check(x)
        return ((x - _like(self, "center", x)) ** 2).sum(-1) < radius**2

    def to_dict(self):
        return {"type": "GaussianBump", "class": qualified_name(self), "center": self.center.tolist(), "width": self.width, "height": self.height}

    def __repr__(self):
        return f"GaussianBump(center={self.center.tolist()}, width={self.width}, height={self.height})"


def qualified_name(obj) -> str:
    """``module.QualName`` of the class of ``obj``."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


BUILT_IN = {f"{__name__}.{cls.__qualname__}": cls for cls in (Kinetic, Harmonic, ConstantForce, Potential,
                                                              GaussianBump)}


def _built_in(spec: dict, name: str) -> bool:
    """``spec`` describes the built-in class ``name`` itself (not a subclass). Files written
    before the class was recorded carry only the type."""
    return spec.get("class", f"{__name__}.{name}") == f"{__name__}.{name}" and spec.get("type") == name


def from_dict(spec: dict | None):
    """Rebuild a built-in Lagrangian from ``to_dict()``; None where it cannot be rebuilt
    exactly (a subclass of a built-in, or a Lagrangian of the user's: see :func:`describe`)."""
    if not spec or not isinstance(spec, dict):
        return None
    if _built_in(spec, "Kinetic"):
        return Kinetic()
    if _built_in(spec, "Harmonic"):
        return Harmonic(spec["omega"], spec["sign"])
    if _built_in(spec, "ConstantForce"):
        return ConstantForce(spec["g"])
    V = spec.get("V")
    if _built_in(spec, "Potential") and isinstance(V, dict) and _built_in(V, "GaussianBump"):
        return Potential(GaussianBump(V["center"], V["width"], V["height"]))
    return None


def describe(spec: dict | None) -> str:
    """What a saved ``to_dict()`` (or its absence) says about a Lagrangian, for messages."""
    if not spec or not isinstance(spec, dict):
        return "a Lagrangian of your own (a function or a callable object), which a file cannot hold"
    name = spec.get("class") or spec.get("type") or "?"
    V = spec.get("V")
    if spec.get("type") == "Potential" and isinstance(V, dict) and V.get("class"):
        name += f" of {V['class']}"
    return f"a Lagrangian of class {name}, which is not one that a file can rebuild exactly"


def check_lagrangian(lagrangian) -> None:
    if isinstance(lagrangian, type):
        raise TypeError(f"lagrangian must be an instance such as {lagrangian.__name__}(...), not the class "
                        f"{lagrangian.__name__} itself")
    if not callable(lagrangian):
        raise TypeError(f"lagrangian must be callable as L(x, v, t), got {type(lagrangian).__name__}")


def _vector(value, name: str) -> torch.Tensor:
    """A non-empty finite float32 vector, or an error that names ``name``."""
    try:
        out = torch.as_tensor(value, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a vector of numbers, got {type(value).__name__}") from None
    if out.ndim > 1 or out.numel() == 0:
        raise ValueError(f"{name} must be a non-empty vector of shape (d,), got shape {tuple(out.shape)}")
    out = out.reshape(-1)
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or infinite values (or values beyond the float32 range)")
    return out
