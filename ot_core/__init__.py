"""ot_core: a neural solver for Wasserstein geodesics and optimal-transport dynamics.

After Chen & Liu, "Neural solver for Wasserstein Geodesics and optimal transport dynamics"
(arXiv:2602.22003). Algorithm 1 (``fit_geodesic``) learns the paths T(x, t) and the map
T(x, 1) by a minimax game with a critic; Algorithm 2 (``fit_velocity``) learns the Eulerian
velocity field v(z, t). ``plotting`` (matplotlib) and ``data`` (MNIST) are imported when
first used."""

import importlib

from . import baselines, exact, losses, metrics, nets, problems, types
from ._train import DivergenceError
from .config import GeodesicConfig, VelocityConfig
from .distributions import Empirical, Gaussian, GaussianMixture
from .lagrangians import ConstantForce, GaussianBump, Harmonic, Kinetic, Lagrangian, Potential
from .ode import ODEPaths, integrate
from .results import Geodesic, ODEFunc, VelocityField
from .solver import fit_geodesic, fit_velocity

__version__ = "0.1.0"

_LAZY = ("plotting", "data")


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ot_core' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = [
    "Gaussian", "GaussianMixture", "Empirical",
    "Lagrangian", "Kinetic", "Harmonic", "ConstantForce", "Potential", "GaussianBump",
    "fit_geodesic", "fit_velocity", "Geodesic", "VelocityField", "GeodesicConfig", "VelocityConfig",
    "DivergenceError", "integrate", "ODEPaths", "ODEFunc", "exact", "metrics", "baselines", "losses", "nets",
    "plotting", "problems", "data", "types",
]
