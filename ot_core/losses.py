"""The losses of Algorithms 1 and 2, as plain functions of networks and batches.

``fit_geodesic`` and ``fit_velocity`` are loops over these; a researcher who wants another
optimiser, schedule or network can write that loop in a few lines (chapter 40 does) and keep
the losses. The saddle problem of Algorithm 1 is

    min_T max_φ  E_μ ∫₀¹ L(T(x,t), ∂_t T(x,t), t) dt − E_μ φ(T(x,1)) + E_ν φ(y).
"""

from __future__ import annotations

import torch


def path_terms(path_net, x: torch.Tensor, t: torch.Tensor):
    """Positions and velocities (K, n, d) at the K times ``t`` and the end points T(x, 1) (n, d).

    Uses ``path_net.trajectory`` (one evaluation of the map network) when the network has it,
    else ``position_and_velocity`` and ``map``."""
    if hasattr(path_net, "trajectory"):
        return path_net.trajectory(x, t)
    pos, vel = path_net.position_and_velocity(x, t)
    return pos, vel, path_net.map(x)


def action(lagrangian, pos: torch.Tensor, vel: torch.Tensor, t: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """E_x Σ_k w_k L(pos_k, vel_k, t_k): the quadrature estimate of the action of K×n points.

    ``pos``, ``vel``: (K, n, d); ``t``: (K, n, 1) or (K, 1, 1); ``weights``: (K,)."""
    K, n, d = pos.shape
    lag = lagrangian(pos.reshape(K * n, d), vel.reshape(K * n, d), t.expand(K, n, 1).reshape(K * n, 1))
    return (weights @ lag.view(K, n).to(weights.dtype)).mean()


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The energy distance 2E|X − Y| − E|X − X'| − E|Y − Y'| between the laws of the rows of
    ``x`` (n, d) and ``y`` (m, d), estimated without bias (the pairs of a row with itself are left
    out), as a 0-d tensor that is differentiable in both. It is ≥ 0 in expectation and zero only
    for equal laws (Székely and Rizzo, 2013)."""
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"the energy distance needs at least 2 rows in each sample, got {n} and {m}")
    xy = _distances(x, y).mean()
    xx = _distances(x, x).sum() / (n * (n - 1))
    yy = _distances(y, y).sum() / (m * (m - 1))
    return 2 * xy - xx - yy


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a_i − b_j| for all pairs (``torch.cdist``). Where a row meets itself the distance is zero
    up to rounding (it is summed but not counted in the means above) and its gradient is zero,
    not NaN."""
    return torch.cdist(a, b)


def path_loss(path_net, critic, lagrangian, x: torch.Tensor, t: torch.Tensor, weights: torch.Tensor,
              y: torch.Tensor | None = None, energy_weight: float | torch.Tensor = 0.0):
    """The loss of T in Algorithm 1, E_μ ∫ L dt − E_μ φ(T(x, 1)), and the action estimate.

    With ``energy_weight`` > 0 and a batch ``y`` of the target, ``energy_weight`` times the
    energy distance between the images T(x, 1) and ``y`` is added: a term whose gradient reaches
    every part of the target, however far, and which vanishes, with its first variation, when
    T(·, 1) carries μ onto ν, so that it leaves the solution of the saddle problem unchanged.

    Returns ``(loss, action)``; both are 0-d tensors on the device of ``x``."""
    pos, vel, end = path_terms(path_net, x, t)
    act = action(lagrangian, pos, vel, t, weights)
    loss = act - critic(end).mean()
    if y is not None:
        loss = loss + energy_weight * energy_distance(end, y)
    return loss, act


def critic_loss(critic, mapped: torch.Tensor, y: torch.Tensor, gradient_penalty: float = 0.0,
                scale: float | torch.Tensor = 1.0):
    """The loss of φ in Algorithm 1: −(E_ν φ(y) − E_μ φ(T(x, 1))), plus ``gradient_penalty`` ·
    E_ν|∇φ|² / scale² when it is positive. ``mapped`` are the images T(x, 1) (no gradient
    flows into T). Returns ``(loss, gap)`` where gap = E_ν φ(y) − E_μ φ(T(x, 1))."""
    if gradient_penalty > 0:
        y = y.detach().requires_grad_(True)
    phi_y = critic(y)
    gap = phi_y.mean() - critic(mapped.detach()).mean()
    loss = -gap
    if gradient_penalty > 0:
        (grad,) = torch.autograd.grad(phi_y.sum(), y, create_graph=True)
        loss = loss + gradient_penalty * (grad**2).sum(-1).mean() / scale**2
    return loss, gap.detach()


def velocity_loss(net, path_net, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The loss of Algorithm 2: E |v(T(x, t), t) − ∂_t T(x, t)|² with T frozen; ``t`` is (n, 1)."""
    with torch.no_grad():
        z, u = path_net.position_and_velocity(x, t)
    return ((net(z, t) - u) ** 2).sum(-1).mean()
