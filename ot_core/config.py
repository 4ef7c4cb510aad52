"""Settings of Algorithm 1 (:class:`GeodesicConfig`) and Algorithm 2 (:class:`VelocityConfig`).

Keyword arguments of ``fit_geodesic`` / ``fit_velocity`` override these fields; every field is
checked when a config is built, so a bad setting fails before any work is done."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from .nets import ACTIVATIONS

# warm_start="auto" starts at the moments up to this dimension (its 4,096 reference samples then
# number at least 16 per dimension, and the sample covariances are reliable), and only where the
# moment-matched map already pushes the source close to the target: its energy distance to the
# target, divided by the mean distance of two target points, at most this (a Gaussian or a smoothly
# deformed Gaussian pair: below 0.002; mixtures with several modes: above 0.01)
MOMENTS_MAX_DIM = 256
MOMENTS_MAX_MISMATCH = 0.005
# energy_weight="auto" where that test fails: the energy term keeps every mode of a multimodal target
AUTO_ENERGY_WEIGHT = 0.3
# fourier_features="auto" where that test fails: random Fourier features of the map network's input,
# so that it can cut mass between separated components (benchmarks/hard.py)
AUTO_FOURIER_FEATURES = 64
# critic_input_gain="auto" where that test fails in at most this many dimensions: the critic resolves
# components much smaller than the data's spread (in 2-D; in 10-D the same gain loses components)
AUTO_CRITIC_INPUT_GAIN = 2.0
CRITIC_GAIN_MAX_DIM = 2
# warm_start="auto" where that test fails in at most this many dimensions: the start at the exact matching
# of the reference samples (warm_start="matching"); in 10-D it gave the same W2 as the identity start
# (2.10 against 2.06, 3 seeds) in nearly twice the time
MATCHING_MAX_DIM = 2


@dataclass
class GeodesicConfig:
    """Settings of Algorithm 1. The defaults reach about 0.003 % L2-UVP on the 2-D Gaussian example
    (about 0.15 % with ``warm_start="none"``, the game started at the identity map)."""

    steps: int = 400                  # outer iterations (one critic update each)
    batch_size: int = 512
    width: int = 128                  # hidden units of the path network T
    depth: int = 3                    # hidden layers of T
    critic_width: int = 128
    critic_depth: int = 3
    critic_input_gain: float | str = "auto"  # the critic's network reads this multiple of its standardised
                                      # input; "auto": AUTO_CRITIC_INPUT_GAIN where the moment-matched map misses
                                      # the target in at most CRITIC_GAIN_MAX_DIM dimensions, else 1 (recorded)
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
    energy_weight: float | str = "auto"   # λ·ℓ·(energy distance of T(·,1)#μ and ν) added to the loss of T, with ℓ
                                      # the root-mean-square distance of independent source and target points;
                                      # "auto": AUTO_ENERGY_WEIGHT where the moment-matched map misses the target
                                      # (see MOMENTS_MAX_MISMATCH: several modes), else 0 (the result's config
                                      # records the choice)
    fourier_features: int | str = "auto"  # m: the map network F sees m random Fourier features of its input
                                      # (frequencies ~ N(0, fourier_scale²/d · I); see nets.PathNet); 0: off;
                                      # "auto": AUTO_FOURIER_FEATURES where the moment-matched map misses the
                                      # target (several modes), else 0 (the result's config records the choice)
    fourier_scale: float = 1.5
    ema: float = 0.0                  # decay of an exponential moving average of T's weights (0: off);
                                      # the returned map is the average, the history the trained network
    warm_start: str = "auto"          # "moments": T(·,1) starts at the moment-matched Gaussian map (an affine
                                      # part of F) and φ at the quadratic that makes it stationary;
                                      # "matching": T(·,1) regressed onto the exact discrete optimal matching of
                                      # 4,096 source and target samples, φ fitted to make it stationary (see
                                      # solver._start_at_matching); "auto": with the library's networks,
                                      # "moments" in at most MOMENTS_MAX_DIM dimensions where that map already
                                      # nearly fits the target (see MOMENTS_MAX_MISMATCH: unimodal data, not
                                      # mixtures), "matching" where it misses (several modes) in at most
                                      # MATCHING_MAX_DIM dimensions, else "none" (the result's config records
                                      # the choice); "linear": F regressed on the moment-matched map (older, slower)
    warm_start_steps: int = 300
    grad_clip: float | None = None    # clip the gradient norm of both networks (None or 0: off)
    log_every: int = 25               # steps between reads of the losses from the device (and checks)

    def __post_init__(self):
        for name in ("steps", "batch_size", "width", "depth", "critic_width", "critic_depth", "n_times",
                     "path_steps", "critic_steps", "log_every"):
            _integer(self, name, minimum=1)
        _integer(self, "warm_start_steps", minimum=0)
        if self.path_degree is not None:
            _integer(self, "path_degree", minimum=0, extra=" or None")
        _choice(self, "activation", tuple(sorted(ACTIVATIONS)))
        _choice(self, "time_derivative", ("jvp", "autograd", "finite_difference"))
        _choice(self, "time_sampling", ("gauss-legendre", "uniform"))
        _choice(self, "warm_start", ("auto", "moments", "matching", "none", "linear"))
        for name in ("lr_path", "lr_critic"):
            _number(self, name, lambda v: v > 0, "must be positive (a finite number)")
        _number(self, "lr_decay", lambda v: 0 < v <= 1, "must lie in (0, 1]")
        _number(self, "ema", lambda v: 0 <= v < 1, "must lie in [0, 1)")
        _number(self, "critic_weight_decay", lambda v: v >= 0, "must be a number ≥ 0")
        _number(self, "gradient_penalty", lambda v: v >= 0, "must be a number ≥ 0")
        if self.energy_weight != "auto":
            _number(self, "energy_weight", lambda v: v >= 0, 'must be a number ≥ 0 or "auto"')
        if self.fourier_features != "auto":
            _integer(self, "fourier_features", minimum=0, extra=' or "auto"')
        _number(self, "fourier_scale", lambda v: v > 0, "must be positive (a finite number)")
        if self.critic_input_gain != "auto":
            _number(self, "critic_input_gain", lambda v: v > 0, 'must be positive (a finite number) or "auto"')
        if self.grad_clip is not None:
            _number(self, "grad_clip", lambda v: v >= 0, "must be None (no clipping) or a number ≥ 0 (0: no clipping)")
        _betas(self)


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
            _integer(self, name, minimum=1)
        _choice(self, "activation", tuple(sorted(ACTIVATIONS)))
        _number(self, "lr", lambda v: v > 0, "must be positive (a finite number)")
        _number(self, "lr_decay", lambda v: 0 < v <= 1, "must lie in (0, 1]")
        _betas(self)


def _integer(cfg, name: str, minimum: int, extra: str = "") -> None:
    """An integer (not a bool) ≥ ``minimum``; numpy integers are turned into ints."""
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ValueError(f"{name} must be {kind}{extra}, got {value!r}")
    setattr(cfg, name, int(value))


def _number(cfg, name: str, ok, what: str) -> None:
    """A finite real number (not a bool, not a string) for which ``ok`` holds."""
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} {what}, got {value!r}")
    setattr(cfg, name, float(value))


def _choice(cfg, name: str, options: tuple) -> None:
    value = getattr(cfg, name)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(repr(o) for o in options)}, got {value!r}")


def _betas(cfg) -> None:
    """Adam's pair (β₁, β₂), each in [0, 1)."""
    betas = cfg.betas
    try:
        pair = tuple(betas)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(not isinstance(b, bool) and isinstance(b, numbers.Real) and 0 <= b < 1
                                 for b in pair):
        raise ValueError(f"betas must be a pair (beta1, beta2) of numbers in [0, 1), got {betas!r}")
    cfg.betas = tuple(float(b) for b in pair)


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
