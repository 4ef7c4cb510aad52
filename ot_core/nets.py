"""The three networks of the method: the path T(x, t), the critic φ(y), the velocity v(z, t).

Each network sees standardised inputs, (x − shift) / scale, and returns outputs in data
units, so that default learning rates work whatever the scale of the data."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"silu": nn.SiLU, "tanh": nn.Tanh, "softplus": nn.Softplus, "relu": nn.ReLU, "gelu": nn.GELU}


def mlp(in_dim: int, out_dim: int, width: int = 128, depth: int = 3, activation: str = "silu") -> nn.Sequential:
    """A multilayer perceptron with ``depth`` hidden layers of ``width`` units."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers, d = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, width), ACTIVATIONS[activation]()]
        d = width
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


class _Standardised(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(()))

    def set_scale(self, samples: torch.Tensor) -> None:
        """Centre on the mean of ``samples``, scale by their root-mean-square spread."""
        self.shift.copy_(samples.mean(0))
        self.scale.copy_(samples.var(0).mean().sqrt().clamp_min(1e-6))

    def standardise(self, x):
        return (x - self.shift) / self.scale

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh weights from ``generator`` (torch's default initialisation of ``nn.Linear``)
        and reset the standardisation. With a generator of its own, building a network leaves
        every global random stream alone."""
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        with torch.no_grad():
            self.shift.zero_()
            self.scale.fill_(1.0)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def build(cls, *args, seed: int, device="cpu", **kwargs):
    """``cls(*args, **kwargs)`` with weights drawn from a generator seeded with ``seed``: the same
    weights on every device, and no global random stream touched."""
    generator = torch.Generator().manual_seed(seed) if isinstance(seed, int) else seed
    with torch.device("meta"):
        net = cls(*args, **kwargs)
    net.to_empty(device="cpu")
    net.reset_parameters(generator)
    return net.to(device)


class PathNet(_Standardised):
    """T(x, t) = x + t·F(x) + t(1 − t)·G(x, t).

    T(x, 0) = x holds exactly, T(x, 1) = x + F(x) is the transport map, and G carries the
    curvature of the paths (G → 0 for the kinetic cost, whose geodesics are straight).

    With ``affine=True``, F has a linear part beside the network, F(x) = W x̂ + c + MLP(x̂) with
    x̂ the standardised input, and :meth:`set_affine` starts T(·, 1) at any affine map (the
    solver's default start is the moment-matched Gaussian map, exact for Gaussian pairs).

    With ``fourier=m`` > 0, F sees m random Fourier features of its input beside it,
    (x̂, sin(x̂·b_j), cos(x̂·b_j)) with fixed frequencies b_j ~ N(0, fourier_scale²/d · I), drawn with
    the other weights (Tancik et al., 2020). A plain MLP learns the sharp cuts of a map between
    separated components slowly (its spectral bias); regressed on a map with a cut, F with
    features learns it faster. In the game they help most beside a critic that resolves the
    components (``Critic(input_gain=2)`` in 2-D; chapter 100). Only F sees them; the curvature
    G of the paths stays a plain network.

    With ``degree=p`` (the default), G(x, t) = Σ_{k≤p} t^k G_k(x) is a polynomial in t whose
    coefficients one network outputs: ∂_t T is then exact and costs nothing, and one
    evaluation of the networks serves every time node. With ``degree=None``, G is a network
    of (x, t) and ∂_t T comes from automatic differentiation (see ``position_and_velocity``)."""

    def __init__(self, dim: int, width: int = 128, depth: int = 3, activation: str = "silu",
                 degree: int | None = 4, time_derivative: str = "jvp", affine: bool = False,
                 fourier: int = 0, fourier_scale: float = 1.5):
        super().__init__(dim)
        if isinstance(fourier, bool) or not isinstance(fourier, int) or fourier < 0:
            raise ValueError(f"fourier must be a non-negative integer, got {fourier!r}")
        if degree is not None and (not isinstance(degree, int) or degree < 0):
            raise ValueError(f"degree must be a non-negative integer or None, got {degree!r}")
        if time_derivative not in ("jvp", "autograd", "finite_difference"):
            raise ValueError(f"time_derivative must be 'jvp', 'autograd' or 'finite_difference', got {time_derivative!r}")
        self.dim, self.degree, self.time_derivative = dim, degree, time_derivative
        self.fourier_scale = _check_positive("fourier_scale", fourier_scale)
        self.F = mlp(dim + 2 * fourier, dim, width, depth, activation)
        if degree is None:
            self.G = mlp(dim + 1, dim, width, depth, activation)
        else:
            self.G = mlp(dim, dim * (degree + 1), width, depth, activation)
        # created only when asked for, so that the weights drawn for the other layers stay the same
        self.affine = nn.Linear(dim, dim) if affine else None
        if fourier:
            self.register_buffer("frequencies", self._draw_frequencies(fourier))
        else:
            self.frequencies = None
        self._start_at_identity()

    def _start_at_identity(self) -> None:
        for layer in (self.F[-1], self.G[-1], self.affine):  # the identity map and straight paths
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def set_affine(self, m0: torch.Tensor, m1: torch.Tensor, A: torch.Tensor) -> None:
        """Make T(x, 1) = m1 + (x − m0) A (rows x) through the linear part of F, with the network
        part of F set to zero: call it after :meth:`set_scale`, which it relies on."""
        if self.affine is None:
            raise ValueError("set_affine needs a PathNet built with affine=True")
        d = self.dim
        m0, m1, A = (torch.as_tensor(v, dtype=torch.float64, device="cpu") for v in (m0, m1, A))
        if m0.shape != (d,) or m1.shape != (d,) or A.shape != (d, d):
            raise ValueError(f"set_affine needs m0, m1 of shape ({d},) and A of shape ({d}, {d}), got "
                             f"{tuple(m0.shape)}, {tuple(m1.shape)}, {tuple(A.shape)}")
        shift, scale = self.shift.detach().double().cpu(), float(self.scale)
        # x = shift + scale·x̂, and scale·F = m1 − m0 + (x − m0)(A − I)
        M = A - torch.eye(d, dtype=torch.float64)
        with torch.no_grad():
            self.affine.weight.copy_(M.T)
            self.affine.bias.copy_((m1 - m0 + (shift - m0) @ M) / scale)
            nn.init.zeros_(self.F[-1].weight)
            nn.init.zeros_(self.F[-1].bias)

    def _F(self, h: torch.Tensor) -> torch.Tensor:
        if self.frequencies is None:
            out = self.F(h)
        else:
            phase = h @ self.frequencies
            out = self.F(torch.cat([h, phase.sin(), phase.cos()], dim=-1))
        return out if self.affine is None else out + self.affine(h)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        self._start_at_identity()
        if self.frequencies is not None:   # drawn after the layers, from the same generator
            with torch.no_grad():
                self.frequencies.copy_(self._draw_frequencies(self.frequencies.shape[1], generator).to(self.frequencies))

    def _draw_frequencies(self, m: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """m frequencies b_j ~ N(0, fourier_scale²/d · I), as the columns of a (d, m) matrix."""
        return torch.randn(self.dim, m, generator=generator) * self.fourier_scale / math.sqrt(self.dim)

    def map(self, x: torch.Tensor) -> torch.Tensor:
        """T(x, 1) = x + F(x), without evaluating G."""
        return x + self.scale * self._F(self.standardise(x))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.position_and_velocity(x, t, velocity=False)[0]

    def position_and_velocity(self, x: torch.Tensor, t: torch.Tensor, velocity: bool = True):
        """T(x, t) and ∂_t T(x, t) (None when ``velocity=False``).

        ``x`` is (n, d); ``t`` is (n, 1), or (K, n, 1) / (K, 1, 1) to evaluate K times per
        particle at once, in which case the results are (K, n, d)."""
        return self.trajectory(x, t, velocity)[:2]

    def trajectory(self, x: torch.Tensor, t: torch.Tensor, velocity: bool = True):
        """T(x, t), ∂_t T(x, t) and the end point T(x, 1), from one evaluation of F."""
        h = self.standardise(x)
        F = self._F(h)
        end = x + self.scale * F
        if self.degree is None:
            return (*self._autodiff(x, h, F, t, velocity), end)
        coef = self.G(h).unflatten(-1, (self.degree + 1, self.dim))      # (n, p+1, d)
        powers = t ** torch.arange(self.degree + 1, device=t.device, dtype=t.dtype)
        G = (powers.unsqueeze(-1) * coef).sum(-2)                        # (..., n, d)
        pos = x + self.scale * (t * F + t * (1 - t) * G)
        if not velocity:
            return pos, None, end
        k = torch.arange(1, self.degree + 1, device=t.device, dtype=t.dtype)
        dG = (k * powers[..., :-1]).unsqueeze(-1).mul(coef[:, 1:]).sum(-2)
        vel = self.scale * (F + (1 - 2 * t) * G + t * (1 - t) * dG)
        return pos, vel, end

    def _autodiff(self, x, h, F, t, velocity, eps=1e-3):
        t = t.contiguous()
        if t.ndim == 3:  # K times per particle: flatten, evaluate, fold back
            K, n = t.shape[0], x.shape[0]
            tt = t.expand(K, n, 1).reshape(K * n, 1)
            pos, vel = self._autodiff(x.repeat(K, 1), h.repeat(K, 1), F.repeat(K, 1), tt, velocity, eps)
            return pos.view(K, n, -1), None if vel is None else vel.view(K, n, -1)

        def position(s):
            return x + self.scale * (s * F + s * (1 - s) * self.G(torch.cat([h, s], dim=1)))

        if not velocity:
            return position(t), None
        if self.time_derivative == "jvp":  # one forward-mode pass
            return torch.func.jvp(position, (t,), (torch.ones_like(t),))
        if self.time_derivative == "autograd":  # one backward pass per output dimension
            with torch.enable_grad():
                s = t.detach().requires_grad_(True)
                pos = position(s)
                vel = torch.stack([torch.autograd.grad(pos[:, k].sum(), s, create_graph=True)[0][:, 0]
                                   for k in range(pos.shape[1])], dim=1)
            return pos, vel
        lo, hi = (t - eps).clamp_min(0), (t + eps).clamp_max(1)  # central difference
        return position(t), (position(hi) - position(lo)) / (hi - lo)


class Critic(_Standardised):
    """The critic φ(y), a scalar function in units of cost (length²).

    With ``quadratic=True`` it has a quadratic part beside the network,
    φ(y) = scale²·(½ ŷᵀQŷ + b·ŷ + MLP(ŷ)) with ŷ the standardised input, Q symmetric; both start
    at zero, and :meth:`set_quadratic` sets them (the Kantorovich potential of an affine map is
    quadratic for the kinetic cost).

    With ``input_gain=g``, the network part reads g·ŷ: its first layer starts g times sharper
    at the scale of the data, which lets it resolve components much smaller than the data's
    overall spread (the quadratic part is unchanged)."""

    def __init__(self, dim: int, width: int = 128, depth: int = 3, activation: str = "silu",
                 quadratic: bool = False, input_gain: float = 1.0):
        super().__init__(dim)
        self.input_gain = _check_positive("input_gain", input_gain)
        self.net = mlp(dim, 1, width, depth, activation)
        # created only when asked for, so that the weights drawn for the network stay the same
        self.Q = nn.Parameter(torch.zeros(dim, dim)) if quadratic else None
        self.b = nn.Parameter(torch.zeros(dim)) if quadratic else None

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        if self.Q is not None:
            with torch.no_grad():
                self.Q.zero_()
                self.b.zero_()

    def set_quadratic(self, points: torch.Tensor, gradients: torch.Tensor) -> None:
        """Fit the quadratic part so that ∇φ matches ``gradients`` (n, d) at ``points`` (n, d) by
        least squares, and zero the network's output layer: φ starts as that quadratic."""
        if self.Q is None:
            raise ValueError("set_quadratic needs a Critic built with quadratic=True")
        y = self.standardise(points.detach()).double().cpu()
        g = (gradients.detach().double().cpu() / self.scale.double().cpu())   # ∇_ŷ(φ/scale²) = ∇_y φ / scale
        design = torch.cat([y, torch.ones(len(y), 1, dtype=y.dtype)], dim=1)
        coef = torch.linalg.lstsq(design, g, driver="gelsd").solution           # (d + 1, d)
        Q = coef[:-1]
        with torch.no_grad():
            self.Q.copy_(0.5 * (Q + Q.T))
            self.b.copy_(coef[-1])
            nn.init.zeros_(self.net[-1].weight)
            nn.init.zeros_(self.net[-1].bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h = self.standardise(y)
        out = self.net(h if self.input_gain == 1.0 else self.input_gain * h).squeeze(-1)
        if self.Q is not None:
            Q = 0.5 * (self.Q + self.Q.T)
            out = out + 0.5 * ((h @ Q) * h).sum(-1) + h @ self.b
        return self.scale**2 * out


class VelocityNet(_Standardised):
    """The Eulerian velocity field v(z, t)."""

    def __init__(self, dim: int, width: int = 128, depth: int = 3, activation: str = "silu"):
        super().__init__(dim)
        self.net = mlp(dim + 1, dim, width, depth, activation)

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.scale * self.net(torch.cat([self.standardise(z), t], dim=1))
