"""Settings of Algorithm 1 (:class:`GeodesicConfig`) and Algorithm 2 (:class:`VelocityConfig`).

Keyword arguments of ``fit_geodesic`` / ``fit_velocity`` override these fields; every field is
checked when a config is built, so a bad setting fails before any work is done."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class GeodesicConfig:
    """Settings of Algorithm 1. The defaults reach about 0.1–0.2 % L2-UVP on the 2-D Gaussian example."""

    steps: int = 400                  # outer iterations (one critic update each)
    batch_size: int = 512
    width: int = 128                  # hidden units of the path network T
    depth: int = 3                    # hidden layers of T
    critic_width: int = 128
    critic_depth: int = 3
    activation: str = "silu"
    path_degree: int | None = 4       # G polynomial in t of this degree (exact ∂_t T); None: G(x, t) a network
    time_derivative: str = "jvp"      # how ∂_t T is computed when path_degree is None: jvp | autograd | finite_difference
    time_sampling: str = "gauss-legendre"   # or "uniform" (fresh random times every step)
    n_times: int = 8                  # time nodes (or random times) per particle
    path_steps: int = 3               # K_T: descent steps of T per critic step
    critic_steps: int = 1             # ascent steps of φ per outer iteration
    lr_path: float = 1e-3
    lr_critic: float = 1e-3
    betas: tuple = (0.5, 0.999)       # Adam betas of both networks
    lr_decay: float = 0.1             # learning rates decay (cosine) to this fraction of their start
    critic_weight_decay: float = 0.0
    gradient_penalty: float = 0.0     # λ·E_ν|∇φ|² added to the critic loss (inputs standardised)
    ema: float = 0.0                  # decay of an exponential moving average of T's weights (0: off);
                                      # the returned map is the average, the history the trained network
    warm_start: str = "none"          # "linear": start F at the moment-matched linear map
    warm_start_steps: int = 300
    grad_clip: float | None = None    # clip the gradient norm of both networks
    log_every: int = 25               # steps between reads of the losses from the device (and checks)

    def __post_init__(self):
        for name in ("steps", "batch_size", "width", "depth", "critic_width", "critic_depth", "n_times",
                     "path_steps", "critic_steps", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.time_sampling not in ("gauss-legendre", "uniform"):
            raise ValueError(f"time_sampling must be 'gauss-legendre' or 'uniform', got {self.time_sampling!r}")
        if self.warm_start not in ("none", "linear"):
            raise ValueError(f"warm_start must be 'none' or 'linear', got {self.warm_start!r}")
        for name in ("lr_path", "lr_critic"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"ema must lie in [0, 1), got {self.ema!r}")
        self.betas = tuple(self.betas)


@dataclass
class VelocityConfig:
    """Settings of Algorithm 2."""

    steps: int = 1000
    batch_size: int = 512
    width: int = 128
    depth: int = 3
    activation: str = "silu"
    lr: float = 2e-3
    betas: tuple = (0.9, 0.999)
    lr_decay: float = 0.02            # cosine decay to this fraction of lr
    log_every: int = 25               # steps between reads of the loss from the device (and checks)

    def __post_init__(self):
        for name in ("steps", "batch_size", "width", "depth", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        self.betas = tuple(self.betas)


def make_config(cls, config, overrides: dict):
    """``config`` (an instance, a dict or None) with ``overrides`` applied; unknown keys raise."""
    if config is None:
        base = {}
    elif isinstance(config, cls):
        base = dataclasses.asdict(config)
    elif isinstance(config, dict):
        base = dict(config)
    else:
        raise TypeError(f"config must be a {cls.__name__}, a dict or None, got {type(config).__name__}")
    base.update(overrides)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(base) - known)
    if unknown:
        raise TypeError(f"unknown {cls.__name__} option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**base)
