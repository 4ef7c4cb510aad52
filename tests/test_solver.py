"""Algorithms 1 and 2 on the 2-D Gaussian pair, with CI-sized budgets."""

import numpy as np
import pytest
import torch

import ot_core as otc


def test_phase1_learns_the_exact_map_and_paths(fitted, pair2d, x2d):
    geo, _ = fitted
    ex = otc.exact.gaussian(*pair2d)
    uvp = otc.metrics.l2_uvp(geo.map(x2d), ex.map(x2d))
    identity = otc.metrics.l2_uvp(x2d, ex.map(x2d))
    assert uvp < 2.0, uvp
    assert identity > 50 * uvp           # far better than doing nothing
    assert otc.metrics.path_error(geo, ex, x2d) < 2.0
    assert otc.metrics.action_gap(otc.metrics.action(geo, otc.Kinetic(), x2d), ex.cost) < 0.05


def test_phase2_learns_the_exact_velocity(fitted, pair2d, x2d):
    geo, vel = fitted
    ex = otc.exact.gaussian(*pair2d)
    assert otc.metrics.velocity_error(vel, ex, x2d) < 5.0
    # the two ways of sampling the target agree
    ode = otc.integrate(vel, x2d, steps=20)
    assert otc.metrics.l2_uvp(ode, geo.map(x2d)) < 2.0


def test_history_records_every_step(fitted, pair2d):
    geo, vel = fitted
    for key in ("path_loss", "critic_loss", "action", "gap", "seconds"):
        assert len(geo.history[key]) == geo.config.steps
        assert np.isfinite(geo.history[key]).all()
    assert geo.history["step"] == list(range(geo.config.steps))
    assert np.all(np.diff(geo.history["seconds"]) >= 0)
    ex_cost = otc.exact.gaussian(*pair2d).cost                     # ½ W2² = 2.764
    assert abs(np.mean(geo.history["action"][-20:]) - ex_cost) < 0.03 * ex_cost   # the estimate is the real one
    assert len(vel.history["loss"]) == vel.config.steps
    assert np.mean(vel.history["loss"][-50:]) < 0.1 * np.mean(vel.history["loss"][:50])


def test_path_respects_boundary_conditions(fitted, x2d):
    geo, _ = fitted
    assert torch.equal(geo.path(x2d, 0.0), x2d)
    assert torch.allclose(geo.path(x2d, 1.0), geo.map(x2d), atol=1e-6)
    t = torch.rand(len(x2d), 1)
    assert geo.path(x2d, t).shape == x2d.shape
    h = 1e-2
    fd = (geo.path(x2d, 0.5 + h) - geo.path(x2d, 0.5 - h)) / (2 * h)
    assert torch.allclose(geo.velocity_along(x2d, 0.5), fd, atol=1e-3)


def test_same_seed_same_history(pair2d):
    src, tgt = pair2d
    a = otc.fit_geodesic(src, tgt, steps=15, progress=False, seed=3)
    b = otc.fit_geodesic(src, tgt, steps=15, progress=False, seed=3)
    c = otc.fit_geodesic(src, tgt, steps=15, progress=False, seed=4)
    assert a.history["path_loss"] == b.history["path_loss"]
    assert a.history["path_loss"] != c.history["path_loss"]


def test_global_cpu_random_state_is_left_alone(pair2d):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    otc.fit_geodesic(*pair2d, steps=2, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_save_load_round_trip(fitted, tmp_path, x2d):
    geo, vel = fitted
    geo.save(tmp_path / "geo.pt")
    vel.save(tmp_path / "vel.pt")
    # plain weights_only loading works: the files hold tensors and plain Python values only
    torch.load(tmp_path / "geo.pt", weights_only=True)
    geo2 = otc.Geodesic.load(tmp_path / "geo.pt")
    vel2 = otc.VelocityField.load(tmp_path / "vel.pt")
    assert torch.equal(geo2.path(x2d, 0.3), geo.path(x2d, 0.3))
    assert torch.equal(geo2.map(x2d), geo.map(x2d))
    assert torch.equal(vel2(x2d, 0.7), vel(x2d, 0.7))
    assert geo2.history == geo.history
    assert isinstance(geo2.lagrangian, otc.Kinetic)


def test_save_load_keeps_builtin_lagrangians(pair2d, tmp_path):
    for lag in (otc.Harmonic(1.5, -1), otc.ConstantForce([0.0, -2.0]), otc.Potential(otc.GaussianBump([0, 0]))):
        geo = otc.fit_geodesic(*pair2d, lag, steps=1, progress=False)
        geo.save(tmp_path / "g.pt")
        again = otc.Geodesic.load(tmp_path / "g.pt").lagrangian
        assert type(again) is type(lag) and again.to_dict() == lag.to_dict()


def test_time_derivative_methods_agree():
    from ot_core.nets import PathNet

    torch.manual_seed(0)
    reference = PathNet(3, degree=None)
    for p in reference.parameters():          # random, non-trivial paths
        torch.nn.init.normal_(p, std=0.3)
    x, t = torch.randn(20, 3), torch.rand(20, 1)
    v = {}
    for method in ("jvp", "autograd", "finite_difference"):
        net = PathNet(3, degree=None, time_derivative=method)
        net.load_state_dict(reference.state_dict())
        v[method] = net.position_and_velocity(x, t)[1]
    assert v["jvp"].abs().max() > 0.1
    assert torch.allclose(v["jvp"], v["autograd"], atol=1e-5)
    assert torch.allclose(v["jvp"], v["finite_difference"], atol=1e-2)


def test_general_lagrangian_bends_the_paths(pair2d, x2d):
    """A constant force gives parabolic paths: a short fit already beats straight lines."""
    src, tgt = pair2d
    lag = otc.ConstantForce([0.0, -2.0])
    ex = otc.exact.constant_force(src, tgt, [0.0, -2.0])
    geo = otc.fit_geodesic(src, tgt, lag, steps=200, progress=False)
    straight = otc.metrics.path_error(otc.baselines.straight_paths(ex), ex, x2d)
    assert otc.metrics.path_error(geo, ex, x2d) < 0.25 * straight


def test_smoke_any_callable_lagrangian_is_accepted(pair2d):
    geo = otc.fit_geodesic(*pair2d, lambda x, v, t: 0.5 * (v**2).sum(-1) + 0.1 * t[:, 0], steps=3, progress=False)
    assert geo.map(torch.zeros(1, 2)).shape == (1, 2)


def test_smoke_any_distribution_like_object_is_accepted(pair2d):
    class Shifted:
        dim = 2

        def sample(self, n, generator=None):
            return torch.randn(n, 2, generator=generator) + 3

    geo = otc.fit_geodesic(pair2d[0], Shifted(), steps=3, progress=False)
    assert geo.dim == 2


def test_mixtures_and_empirical_sample_correctly():
    g = torch.Generator().manual_seed(0)
    mix = otc.GaussianMixture([[-2.0, 0.0], [2.0, 0.0]], 0.1 * torch.eye(2), weights=[1, 3])
    y = mix.sample(100_000, generator=g)
    assert y.dtype == torch.float32 and y.shape == (100_000, 2)
    assert (y[:, 0] > 0).float().mean().item() == pytest.approx(0.75, abs=0.01)
    assert torch.allclose(y.mean(0).double(), mix.mean, atol=0.02)
    assert torch.allclose(torch.cov(y.T.double()), mix.cov, atol=0.03)
    emp = otc.Empirical(torch.arange(10.0).reshape(5, 2))
    rows = emp.sample(1000, generator=g)
    assert set(map(tuple, rows.tolist())) <= set(map(tuple, emp.samples.tolist()))
    assert len(set(map(tuple, rows.tolist()))) == 5


def test_divergence_is_reported_with_its_step(pair2d):
    def explodes(x, v, t):
        return 0.5 * (v**2).sum(-1) * float("nan")

    with pytest.raises(ValueError, match="lagrangian.*NaN"):      # refused before training
        otc.fit_geodesic(*pair2d, explodes, steps=5, progress=False)

    calls = {"n": 0}

    def late(x, v, t):
        calls["n"] += 1
        # one call checks the Lagrangian before training, then 3 path steps an outer step
        # (the identity start: no calls to bend the start's paths)
        scale = float("inf") if calls["n"] > 1 + 3 * 2 else 1.0
        return 0.5 * (v**2).sum(-1) * scale

    with pytest.raises(otc.DivergenceError, match="step 2"):
        otc.fit_geodesic(*pair2d, late, steps=5, progress=False, warm_start="none")
