"""What the algorithms return: :class:`Geodesic` (Algorithm 1) and :class:`VelocityField`
(Algorithm 2), with saving and loading. Inputs may live on any device; outputs come back on
the device of the input."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import torch

from . import _io
from ._checks import as_matrix, as_time
from ._train import resolve_device
from .config import GeodesicConfig, VelocityConfig
from .lagrangians import check_lagrangian, describe, from_dict
from .nets import Critic, PathNet, VelocityNet, build


def build_nets(dim: int, cfg: GeodesicConfig, seed: int = 0, device="cpu"):
    """The path network T and the critic φ that Algorithm 1 trains, for the settings ``cfg``,
    with weights drawn from a generator seeded with ``seed`` (no global random stream touched).
    Settings still ``"auto"`` give the plain networks (``fit_geodesic`` resolves them first)."""
    gen = torch.Generator().manual_seed(seed)
    features = 0 if cfg.fourier_features == "auto" else cfg.fourier_features
    gain = 1.0 if cfg.critic_input_gain == "auto" else cfg.critic_input_gain
    path_net = build(PathNet, dim, cfg.width, cfg.depth, cfg.activation, cfg.path_degree, cfg.time_derivative,
                     cfg.warm_start == "moments", features, cfg.fourier_scale, seed=gen, device=device)
    critic = build(Critic, dim, cfg.critic_width, cfg.critic_depth, cfg.activation,
                   cfg.warm_start in ("moments", "matching"), gain, seed=gen, device=device)
    return path_net, critic


_NO_TIME = object()        # Geodesic._prepare without a time argument (None is a bad t, not "no t")


def _name(path) -> str:
    return str(getattr(path, "name", None) or path) if hasattr(path, "read") else str(path)


def _require(state, keys, source: str) -> None:
    missing = [k for k in keys if not isinstance(state, dict) or k not in state]
    if missing:
        raise ValueError(f"{source} lacks {', '.join(missing)}: it was not written by save()")


def _config(cls, saved, source: str):
    """The saved settings as a ``cls``; settings this version does not know are refused by name."""
    if not isinstance(saved, dict):
        raise ValueError(f"{source} holds no {cls.__name__} settings")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(saved) - known)
    if unknown:
        raise ValueError(f"{source} has {cls.__name__} settings this version of ot_core does not know "
                         f"({', '.join(unknown)}): it was saved by a newer version")
    try:
        return cls(**saved)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source} holds invalid {cls.__name__} settings: {exc}") from exc


class Geodesic:
    """The result of Algorithm 1: the learned paths T(x, t), map T(x, 1) and critic φ."""

    def __init__(self, path_net, critic, config: GeodesicConfig, history: dict, lagrangian=None):
        self.path_net, self.critic = path_net.eval(), critic.eval()
        self.config, self.history, self.lagrangian = config, history, lagrangian
        self.dim = path_net.dim

    @property
    def device(self) -> torch.device:
        return next(self.path_net.parameters()).device

    def to(self, device) -> "Geodesic":
        """A copy of this geodesic on ``device`` (this one is left where it is)."""
        device = resolve_device(device)
        return Geodesic(copy.deepcopy(self.path_net).to(device), copy.deepcopy(self.critic).to(device),
                        self.config, self.history, self.lagrangian)

    def _prepare(self, x, t=_NO_TIME, name: str = "x"):
        x = as_matrix(x, name, dim=self.dim, float32=True)
        out_device = x.device
        x = x.to(self.device, torch.float32)
        if t is _NO_TIME:
            return x, None, out_device
        return x, as_time(t, x.shape[0], like=x), out_device

    @torch.no_grad()
    def path(self, x, t) -> torch.Tensor:
        """T(x, t): where the particle that starts at x is at time t."""
        x, t, dev = self._prepare(x, t)
        return self.path_net(x, t).to(dev)

    @torch.no_grad()
    def map(self, x) -> torch.Tensor:
        """T(x, 1), the transport map."""
        x, _, dev = self._prepare(x)
        return self.path_net.map(x).to(dev)

    @torch.no_grad()
    def velocity_along(self, x, t) -> torch.Tensor:
        """∂_t T(x, t): the velocity of the particle that started at x, at time t."""
        x, t, dev = self._prepare(x, t)
        return self.path_net.position_and_velocity(x, t)[1].to(dev)

    @torch.no_grad()
    def potential(self, y) -> torch.Tensor:
        """The critic φ(y) (a Kantorovich potential at the saddle point)."""
        y, _, dev = self._prepare(y, name="y")
        return self.critic(y).to(dev)

    kantorovich_potential = potential

    def potential_gradient(self, y) -> torch.Tensor:
        """∇φ(y), by automatic differentiation (the critic's pull on a particle at y)."""
        y, _, dev = self._prepare(y, name="y")
        with torch.enable_grad():
            y = y.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.critic(y).sum(), y)
        return grad.to(dev)

    def state(self) -> dict:
        """Everything needed to rebuild this geodesic, as plain data and tensors."""
        spec = self.lagrangian.to_dict() if hasattr(self.lagrangian, "to_dict") else None
        return {"dim": self.dim, "config": dataclasses.asdict(self.config), "history": self.history,
                "lagrangian": spec,
                "path_net": {k: v.cpu() for k, v in self.path_net.state_dict().items()},
                "critic": {k: v.cpu() for k, v in self.critic.state_dict().items()}}

    def save(self, path) -> None:
        """Save weights, settings, history and (built-in) Lagrangian, atomically and with a
        checksum; loads with ``torch.load(..., weights_only=True)``."""
        _io.save(self.state(), path, "Geodesic")

    @classmethod
    def from_state(cls, state: dict, lagrangian=None, device=None, source: str = "the saved state") -> "Geodesic":
        """Rebuild a Geodesic from :meth:`state`. The Lagrangian comes back only when it is a
        built-in one (the class itself, not a subclass); otherwise pass ``lagrangian=``, or
        it is None and a warning says so."""
        _require(state, ("dim", "config", "history", "path_net", "critic"), source)
        saved = state["config"]
        if isinstance(saved, dict):   # settings saved before they existed: what was used then
            saved = {"fourier_features": 0, "critic_input_gain": 1.0, **saved}
        config = _config(GeodesicConfig, saved, source)
        path_net, critic = build_nets(state["dim"], config)
        try:
            path_net.load_state_dict(state["path_net"])
            critic.load_state_dict(state["critic"])
        except (RuntimeError, KeyError, TypeError) as exc:
            raise ValueError(f"{source} does not match the networks its settings describe ({_io._short(exc)})") from exc
        device = resolve_device(device)
        if lagrangian is not None:
            check_lagrangian(lagrangian)
        else:
            spec = state.get("lagrangian")
            lagrangian = from_dict(spec)
            if lagrangian is None:
                warnings.warn(f"{source} was trained with {describe(spec)}: it is loaded with lagrangian=None. "
                              "Pass it again to restore it: Geodesic.load(path, lagrangian=...)", UserWarning,
                              stacklevel=3)
        return cls(path_net.to(device), critic.to(device), config, state["history"], lagrangian)

    @classmethod
    def load(cls, path, lagrangian=None, device=None) -> "Geodesic":
        """Load a saved Geodesic. Built-in Lagrangians come back by themselves; pass
        ``lagrangian`` for any other one (a function, a subclass, ``Potential`` of your own V)."""
        return cls.from_state(_io.load(path, "Geodesic"), lagrangian, device, source=_name(path))

    def __repr__(self):
        return f"Geodesic(dim={self.dim}, steps={self.config.steps}, lagrangian={self.lagrangian!r})"


class VelocityField:
    """The result of Algorithm 2: an Eulerian velocity field, callable as ``vel(z, t)``."""

    def __init__(self, net: VelocityNet, config: VelocityConfig, history: dict):
        self.net, self.config, self.history = net.eval(), config, history
        self.dim = net.shift.shape[0]

    @property
    def device(self) -> torch.device:
        return self.net.shift.device

    @torch.no_grad()
    def __call__(self, z, t) -> torch.Tensor:
        z = as_matrix(z, "z", dim=self.dim, float32=True)
        dev = z.device
        z = z.to(self.device, torch.float32)
        return self.net(z, as_time(t, z.shape[0], like=z)).to(dev)

    def as_ode_func(self) -> "ODEFunc":
        """This field with the ``f(t, x)`` signature of ODE libraries (torchdiffeq, torchdyn)."""
        return ODEFunc(self)

    def save(self, path) -> None:
        _io.save({"dim": self.dim, "config": dataclasses.asdict(self.config), "history": self.history,
                  "net": {k: v.cpu() for k, v in self.net.state_dict().items()}}, path, "VelocityField")

    @classmethod
    def load(cls, path, device=None) -> "VelocityField":
        state = _io.load(path, "VelocityField")
        source = _name(path)
        _require(state, ("dim", "config", "history", "net"), source)
        config = _config(VelocityConfig, state["config"], source)
        net = build(VelocityNet, state["dim"], config.width, config.depth, config.activation, seed=0)
        try:
            net.load_state_dict(state["net"])
        except (RuntimeError, KeyError, TypeError) as exc:
            raise ValueError(f"{source} does not match the network its settings describe ({_io._short(exc)})") from exc
        return cls(net.to(resolve_device(device)), config, state["history"])

    def __repr__(self):
        return f"VelocityField(dim={self.dim}, steps={self.config.steps})"


class ODEFunc(torch.nn.Module):
    """``f(t, x) = field(x, t)`` for ODE libraries: ``t`` a scalar (0-d tensor or float), ``x`` (n, d).

    >>> from torchdiffeq import odeint                                  # doctest: +SKIP
    >>> odeint(vel.as_ode_func(), x0, torch.tensor([0.0, 1.0]))[-1]      # doctest: +SKIP
    """

    def __init__(self, field):
        super().__init__()
        self.field = field

    def forward(self, t, x):
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device).reshape(-1, 1).expand(x.shape[0], 1)
        return self.field(x, t)
