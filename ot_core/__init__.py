"""ot_core: a neural solver for Wasserstein geodesics and optimal-transport dynamics.

After Chen & Liu, "Neural solver for Wasserstein Geodesics and optimal transport dynamics"
(arXiv:2602.22003). Algorithm 1 (``fit_geodesic``) learns the paths T(x, t) and the map
T(x, 1) by a minimax game with a critic; Algorithm 2 (``fit_velocity``) learns the Eulerian
velocity field v(z, t)."""

from . import baselines, data, exact, metrics, plotting, problems
from .distributions import Empirical, Gaussian, GaussianMixture
from .lagrangians import ConstantForce, GaussianBump, Harmonic, Kinetic, Lagrangian, Potential
from .ode import integrate
from .solver import (DivergenceError, Geodesic, GeodesicConfig, VelocityConfig, VelocityField,
                     fit_geodesic, fit_velocity)

__version__ = "0.1.0"

__all__ = [
    "Gaussian", "GaussianMixture", "Empirical",
    "Lagrangian", "Kinetic", "Harmonic", "ConstantForce", "Potential", "GaussianBump",
    "fit_geodesic", "fit_velocity", "Geodesic", "VelocityField", "GeodesicConfig", "VelocityConfig",
    "DivergenceError", "integrate", "exact", "metrics", "baselines", "plotting", "problems", "data",
]
