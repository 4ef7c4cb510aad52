"""Error measures (defined in chapters 10 and 40 of the book). Errors are percentages; lower is better."""

from __future__ import annotations

import numpy as np
import torch

from ._checks import as_matrix

DEFAULT_TIMES = tuple(k / 10 for k in range(1, 11))   # 0.1, 0.2, ..., 1.0 (at t = 0 every path is exact)


def _pair(pred, true, names=("pred", "true")):
    true = as_matrix(true, names[1]).double()
    pred = as_matrix(pred, names[0], dim=true.shape[1]).double()
    if pred.shape[0] != true.shape[0]:
        raise ValueError(f"{names[0]} has {pred.shape[0]} rows but {names[1]} has {true.shape[0]}")
    return pred, true.to(pred.device)


def total_variance(x: torch.Tensor) -> float:
    """tr Cov(x) of the rows of x."""
    x = as_matrix(x, "x").double()
    return float(x.var(0).sum())


def l2_uvp(pred, true) -> float:
    """L2-UVP = 100 · mean|pred − true|² / tr Cov(true), in percent (Korotin et al., 2021)."""
    pred, true = _pair(pred, true)
    if true.shape[0] < 2:
        raise ValueError(f"true must have at least 2 rows (its variance normalises the error), got {true.shape[0]}")
    variance = true.var(0).sum()
    if not variance > 0:
        raise ValueError("true has zero variance (all rows equal): L2-UVP is undefined")
    return float(100 * ((pred - true) ** 2).sum(-1).mean() / variance)


def path_error(model, reference, x, times=DEFAULT_TIMES) -> float:
    """L2-UVP of ``model.path(x, t)`` against ``reference.path(x, t)``, averaged over ``times``."""
    x = as_matrix(x, "x")
    return float(np.mean([l2_uvp(model.path(x, t), reference.path(x, t)) for t in times]))


def velocity_error(field, reference, x, times=tuple(k / 10 for k in range(11))) -> float:
    """100 · E|v̂(X*_t, t) − v*(X*_t, t)|² / E|v*|², pooled over ``times``.

    ``field`` is callable v(z, t); ``reference`` has ``.path`` and ``.velocity`` (an exact answer)."""
    x = as_matrix(x, "x")
    num = den = 0.0
    for t in times:
        z = reference.path(x, t)
        true = reference.velocity(z, t).double()
        pred = torch.as_tensor(field(z, torch.full((z.shape[0], 1), float(t), dtype=z.dtype, device=z.device)))
        pred = pred.double().to(true.device)
        num += float(((pred - true) ** 2).sum(-1).mean())
        den += float((true**2).sum(-1).mean())
    return 100 * num / den


def action(model, lagrangian, x, n_times: int = 16) -> float:
    """E_x ∫₀¹ L(X_t, Ẋ_t, t) dt by Gauss–Legendre quadrature; ``model`` has ``.path`` and
    ``.velocity_along`` (a Geodesic or an exact answer)."""
    if not callable(lagrangian):
        raise TypeError(f"lagrangian must be callable as L(x, v, t), got {type(lagrangian).__name__}")
    x = as_matrix(x, "x")
    nodes, weights = np.polynomial.legendre.leggauss(n_times)
    total = 0.0
    for s, w in zip((nodes + 1) / 2, weights / 2):
        t = torch.full((x.shape[0], 1), float(s), device=x.device)
        pos = model.path(x, float(s)).float()
        vel = model.velocity_along(x, float(s)).float()
        total += w * float(lagrangian(pos, vel, t.to(pos)).double().mean())
    return total


def action_gap(value: float, reference: float) -> float:
    """Relative gap (value − reference) / |reference|."""
    return (value - reference) / abs(reference)


def empirical_w2(a, b) -> float:
    """W₂ between the empirical measures of the rows of a and b, exactly (POT ``ot.emd2``)."""
    import ot

    a = as_matrix(a, "a").double().cpu()
    b = as_matrix(b, "b", dim=a.shape[1]).double().cpu()
    M = torch.cdist(a, b) ** 2
    wa = np.full(len(a), 1.0 / len(a))
    wb = np.full(len(b), 1.0 / len(b))
    return float(np.sqrt(max(ot.emd2(wa, wb, M.numpy(), numItermax=10_000_000), 0.0)))


def energy_distance(a, b) -> float:
    """The energy distance 2E|X − Y| − E|X − X'| − E|Y − Y'| between the empirical laws of the
    rows of ``a`` and ``b`` (unbiased: a row is not paired with itself), in the units of the data.
    A two-sample statistic (Székely and Rizzo, 2013): near zero (either sign) for two samples of
    one law, and, unlike W2 against its floor in high dimension, not fooled by a map that
    collapses its images onto a few points (their E|X − X'| is small)."""
    from .losses import energy_distance as _energy

    a = as_matrix(a, "a").double()
    b = as_matrix(b, "b", dim=a.shape[1]).double().to(a.device)
    with torch.no_grad():
        return float(_energy(a, b))


def w2_floor(target, n: int, seed: int = 0) -> float:
    """The sampling floor: empirical W₂ between two independent n-samples of ``target``."""
    gen = torch.Generator().manual_seed(seed)
    return empirical_w2(target.sample(n, generator=gen), target.sample(n, generator=gen))


def moment_mismatch(source_samples, target_samples) -> float:
    """How far the moment-matched Gaussian map misses the target: fitted on the first half of
    the samples (``exact.moment_matched``), it maps the second half of the source, and the energy
    distance of those images to the second half of the target is divided by the mean distance
    between the two halves of the target. Near zero (±0.001 with 4,096 samples a side) for a
    Gaussian pair or a smoothly deformed one; above 0.01 for targets with several modes. The test
    behind the ``"auto"`` settings of ``fit_geodesic`` (``warm_start``, ``energy_weight``,
    ``fourier_features``, ``critic_input_gain``)."""
    from .exact import moment_matched

    xs = as_matrix(source_samples, "source_samples").double()
    ys = as_matrix(target_samples, "target_samples", dim=xs.shape[1]).double().to(xs.device)
    h = min(len(xs), len(ys)) // 2
    if h < 2:
        raise ValueError(f"moment_mismatch needs at least 4 samples of each side, got {len(xs)} and {len(ys)}")
    images = moment_matched(xs[:h], ys[:h]).map(xs[h:2 * h])
    scale = torch.cdist(ys[:h], ys[h:2 * h]).mean()
    return energy_distance(images, ys[h:2 * h]) / float(scale)

