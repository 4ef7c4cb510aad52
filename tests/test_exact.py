"""The closed forms agree with each other, with samples and with their defining equations."""

import math

import pytest
import torch

import ot_core as otc

G = torch.Generator


def big_sample(dist, n=400_000, seed=1):
    return dist.sample(n, generator=G().manual_seed(seed)).double()


def cases(src, tgt):
    return [
        ("kinetic", otc.Kinetic(), otc.exact.gaussian(src, tgt)),
        ("harmonic+", otc.Harmonic(1.0, +1), otc.exact.harmonic(src, tgt, 1.0, +1)),
        ("harmonic-", otc.Harmonic(1.0, -1), otc.exact.harmonic(src, tgt, 1.0, -1)),
        ("harmonic- near pi", otc.Harmonic(2.5, -1), otc.exact.harmonic(src, tgt, 2.5, -1)),
        ("force", otc.ConstantForce([0.0, -2.0]), otc.exact.constant_force(src, tgt, [0.0, -2.0])),
    ]


def test_map_pushes_source_to_target(pair2d):
    src, tgt = pair2d
    y = otc.exact.gaussian(src, tgt).map(big_sample(src))
    assert torch.allclose(y.mean(0), tgt.mean, atol=0.01)
    assert torch.allclose(torch.cov(y.T), tgt.cov, atol=0.01)


def test_brenier_matrix_is_symmetric_positive_definite_and_pushes_covariance(pair2d):
    src, tgt = pair2d
    A = otc.exact.gaussian(src, tgt).A
    assert torch.allclose(A, A.T)
    assert torch.linalg.eigvalsh(A).min() > 0
    assert torch.allclose(A @ src.cov @ A, tgt.cov, atol=1e-10)


def test_w2_matches_transport_cost_of_map(pair2d):
    src, tgt = pair2d
    ex = otc.exact.gaussian(src, tgt)
    x = big_sample(src)
    sampled = ((ex.map(x) - x) ** 2).sum(-1).mean().item()
    assert sampled == pytest.approx(ex.w2**2, rel=5e-3)
    assert ex.cost == pytest.approx(0.5 * ex.w2**2)


def test_w2_of_commuting_covariances_is_the_textbook_formula():
    src = otc.Gaussian([0.0, 0.0, 0.0], torch.diag(torch.tensor([1.0, 4.0, 9.0])))
    tgt = otc.Gaussian([1.0, 0.0, 0.0], torch.diag(torch.tensor([4.0, 1.0, 9.0])))
    # |m0 - m1|² + Σ (σ0 - σ1)² = 1 + 1 + 1 + 0
    assert otc.exact.w2_squared(src, tgt) == pytest.approx(3.0)


@pytest.mark.parametrize("index", range(5))
def test_velocity_along_is_time_derivative_of_path(pair2d, index):
    name, _, ex = cases(*pair2d)[index]
    x = big_sample(pair2d[0], 100)
    for t in (0.1, 0.5, 0.9):
        h = 1e-5
        fd = (ex.path(x, t + h) - ex.path(x, t - h)) / (2 * h)
        assert torch.allclose(ex.velocity_along(x, t), fd, atol=1e-6), name


@pytest.mark.parametrize("index", range(5))
def test_paths_start_at_x_and_end_at_the_map(pair2d, index):
    _, _, ex = cases(*pair2d)[index]
    x = big_sample(pair2d[0], 100)
    assert torch.allclose(ex.path(x, 0.0), x)
    assert torch.allclose(ex.path(x, 1.0), ex.map(x))


@pytest.mark.parametrize("index", range(5))
def test_eulerian_velocity_agrees_with_particle_velocity(pair2d, index):
    _, _, ex = cases(*pair2d)[index]
    x = big_sample(pair2d[0], 100)
    for t in (0.0, 0.3, 0.8, 1.0):
        assert torch.allclose(ex.velocity(ex.path(x, t), t), ex.velocity_along(x, t), atol=1e-9)


@pytest.mark.parametrize("index", range(5))
def test_euler_lagrange_equation_holds(pair2d, index):
    """ẍ = ∇V(x, t) along the exact paths, by finite differences and autograd."""
    name, L, ex = cases(*pair2d)[index]
    x = big_sample(pair2d[0], 50)
    h = 1e-3
    for t in (0.25, 0.5, 0.75):
        acc = (ex.path(x, t + h) - 2 * ex.path(x, t) + ex.path(x, t - h)) / h**2
        z = ex.path(x, t).requires_grad_(True)
        V = L.potential(z, torch.full((len(z), 1), t, dtype=z.dtype)).sum() + 0 * z.sum()
        (gradV,) = torch.autograd.grad(V, z)
        assert torch.allclose(acc, gradV, atol=1e-4), name


@pytest.mark.parametrize("index", range(5))
def test_action_of_exact_path_equals_stated_cost(pair2d, index):
    name, L, ex = cases(*pair2d)[index]
    x = big_sample(pair2d[0])
    value = otc.metrics.action(ex, L, x)
    # the stated cost is E c(x, T*(x)) in closed form; the quadrature is a Monte Carlo estimate
    assert value == pytest.approx(ex.cost, rel=5e-3, abs=5e-3), name


def test_eulerian_velocity_transports_the_marginals(pair2d):
    """d/dt E[z] = E[v(z, t)] and d/dt Cov(z) = Cov(z, v) + Cov(v, z) under μ_t."""
    src, tgt = pair2d
    for ex in (otc.exact.gaussian(src, tgt), otc.exact.harmonic(src, tgt, 1.0, +1)):
        h = 1e-4
        for t in (0.2, 0.6):
            mean, cov = ex.marginal_moments(t)
            z = otc.Gaussian(mean, cov).sample(400_000, generator=G().manual_seed(3)).double()
            v = ex.velocity(z, t)
            m_plus, c_plus = ex.marginal_moments(t + h)
            m_minus, c_minus = ex.marginal_moments(t - h)
            dm, dc = (m_plus - m_minus) / (2 * h), (c_plus - c_minus) / (2 * h)
            zc, vc = z - z.mean(0), v - v.mean(0)
            cross = zc.T @ vc / len(z)
            assert torch.allclose(v.mean(0), dm, atol=0.02)
            assert torch.allclose(cross + cross.T, dc, atol=0.03)


def test_marginal_at_ends(pair2d):
    src, tgt = pair2d
    ex = otc.exact.gaussian(src, tgt)
    m1, c1 = ex.marginal_moments(1.0)
    assert torch.allclose(m1, tgt.mean) and torch.allclose(c1, tgt.cov, atol=1e-10)


def test_rk4_on_exact_velocity_reproduces_the_map(pair2d):
    src, tgt = pair2d
    ex = otc.exact.gaussian(src, tgt)
    x = big_sample(src, 2000)
    end = otc.integrate(ex.velocity, x, steps=50, method="rk4")
    assert otc.metrics.l2_uvp(end, ex.map(x)) < 1e-6
    # straight constant-speed paths make even Euler exact; curved ones show the orders
    har = otc.exact.harmonic(src, tgt, 1.5, +1)
    errs = [otc.metrics.l2_uvp(otc.integrate(har.velocity, x, steps=10, method=m), har.map(x))
            for m in ("euler", "midpoint", "rk4")]
    assert errs[0] > 10 * errs[1] > 100 * errs[2]
    assert errs[2] < 1e-6


def test_integrate_returns_full_path(pair2d):
    src, tgt = pair2d
    ex = otc.exact.gaussian(src, tgt)
    x = big_sample(src, 10)
    path = otc.integrate(ex.velocity, x, steps=20, return_path=True)
    assert path.shape == (21, 10, 2)
    assert torch.allclose(path[0], x)
    assert torch.allclose(path[10], ex.path(x, 0.5), atol=1e-8)


def test_harmonic_sign_minus_requires_omega_below_pi(pair2d):
    with pytest.raises(ValueError, match="omega"):
        otc.exact.harmonic(*pair2d, math.pi, -1)
    with pytest.raises(ValueError, match="omega"):
        otc.Harmonic(3.5, -1)


def test_harmonic_approaches_kinetic_as_omega_vanishes(pair2d):
    x = big_sample(pair2d[0], 100)
    kin = otc.exact.gaussian(*pair2d)
    for sign in (1, -1):
        har = otc.exact.harmonic(*pair2d, 1e-4, sign)
        assert torch.allclose(har.path(x, 0.3), kin.path(x, 0.3), atol=1e-6)
        assert har.cost == pytest.approx(kin.cost, rel=1e-6)
