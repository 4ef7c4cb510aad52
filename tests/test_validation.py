"""Bad input raises a clear error that names the argument."""

import math

import pytest
import torch

import ot_core as otc


@pytest.fixture(scope="module")
def geo(pair2d):
    return otc.fit_geodesic(*pair2d, steps=2, progress=False)


def test_wrong_rank_names_the_argument(geo):
    with pytest.raises(ValueError, match=r"x must be a 2-D tensor"):
        geo.map(torch.zeros(2))
    with pytest.raises(ValueError, match=r"x0 must be a 2-D tensor"):
        otc.integrate(lambda z, t: z, torch.zeros(3, 2, 1))
    with pytest.raises(ValueError, match=r"samples must be a 2-D tensor"):
        otc.Empirical(torch.zeros(5))


def test_dimension_mismatch(pair2d, geo):
    src = pair2d[0]
    tgt3 = otc.Gaussian([0.0, 0.0, 0.0], torch.eye(3))
    with pytest.raises(ValueError, match="source has dimension 2 but target has dimension 3"):
        otc.fit_geodesic(src, tgt3, steps=1, progress=False)
    with pytest.raises(ValueError, match="x has dimension 3, expected 2"):
        geo.path(torch.zeros(4, 3), 0.5)
    with pytest.raises(ValueError, match="source has dimension 3"):
        otc.fit_velocity(geo, tgt3, steps=1, progress=False)
    with pytest.raises(ValueError, match="pred has dimension 3"):
        otc.metrics.l2_uvp(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="cov has shape"):
        otc.Gaussian([0.0, 0.0], torch.eye(3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_samples(pair2d, geo, bad):
    x = torch.zeros(4, 2)
    x[1, 0] = bad
    with pytest.raises(ValueError, match="x contains NaN or infinite"):
        geo.map(x)
    with pytest.raises(ValueError, match="samples contains NaN or infinite"):
        otc.Empirical(x)
    with pytest.raises(ValueError, match="mean contains NaN"):
        otc.Gaussian([bad, 0.0], torch.eye(2))

    class Broken:
        dim = 2

        def sample(self, n, generator=None):
            return x[1:2].expand(n, 2)

    with pytest.raises(ValueError, match="samples of target contains NaN"):
        otc.fit_geodesic(pair2d[0], Broken(), steps=1, progress=False)


@pytest.mark.parametrize("t", [-0.1, 1.5, float("nan")])
def test_time_outside_unit_interval(geo, t):
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        geo.path(torch.zeros(3, 2), t)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        geo.velocity_along(torch.zeros(3, 2), torch.full((3, 1), t))


def test_time_of_wrong_shape(geo):
    with pytest.raises(ValueError, match=r"t must be a float or a tensor of shape \(3, 1\)"):
        geo.path(torch.zeros(3, 2), torch.zeros(4, 1))


def test_unknown_config_keys(pair2d, geo):
    with pytest.raises(TypeError, match="unknown GeodesicConfig option.*stepz"):
        otc.fit_geodesic(*pair2d, stepz=3)
    with pytest.raises(TypeError, match="unknown VelocityConfig option.*learning_rate"):
        otc.fit_velocity(geo, pair2d[0], learning_rate=1e-3)
    with pytest.raises(TypeError, match="unknown GeodesicConfig option.*foo"):
        otc.fit_geodesic(*pair2d, config={"foo": 1})


@pytest.mark.parametrize("options, pattern", [
    (dict(steps=0), "steps must be a positive integer"),
    (dict(batch_size=2.5), "batch_size must be a positive integer"),
    (dict(time_sampling="sobol"), "time_sampling must be"),
    (dict(time_derivative="magic"), "time_derivative must be"),
    (dict(activation="swish"), "activation must be one of"),
    (dict(lr_path=-1.0), "lr_path must be positive"),
    (dict(ema=1.0), r"ema must lie in \[0, 1\)"),
    (dict(warm_start="random"), "warm_start must be"),
])
def test_bad_config_values(pair2d, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        otc.fit_geodesic(*pair2d, steps=options.pop("steps", 1), progress=False, **options)


def test_lagrangian_must_be_callable(pair2d):
    with pytest.raises(TypeError, match="lagrangian must be callable"):
        otc.fit_geodesic(*pair2d, lagrangian=3.0)
    with pytest.raises(TypeError, match="V must be callable"):
        otc.Potential("not a function")
    with pytest.raises(TypeError, match="lagrangian must be callable"):
        otc.metrics.action(otc.exact.gaussian(*pair2d), None, torch.zeros(3, 2))


def test_distribution_must_look_like_one(pair2d):
    with pytest.raises(TypeError, match="source must have a .dim attribute"):
        otc.fit_geodesic(torch.zeros(10, 2), pair2d[1])
    with pytest.raises(TypeError, match="geo must be the Geodesic"):
        otc.fit_velocity("geo", pair2d[0])


@pytest.mark.parametrize("cov, pattern", [
    ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
    ([[1.0, 0.0], [0.0, 0.0]], "positive definite"),
    ([[1.0, 0.5], [0.0, 1.0]], "symmetric"),
])
def test_covariance_must_be_positive_definite(cov, pattern):
    with pytest.raises(ValueError, match=f"cov must be {pattern}"):
        otc.Gaussian([0.0, 0.0], cov)
    with pytest.raises(ValueError, match=rf"covs\[1\] must be {pattern}"):
        otc.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], [torch.eye(2).tolist(), cov])


def test_lagrangian_parameters(pair2d):
    with pytest.raises(ValueError, match="sign must be"):
        otc.Harmonic(1.0, sign=0)
    with pytest.raises(ValueError, match="omega must be a positive"):
        otc.Harmonic(-1.0)
    with pytest.raises(ValueError, match="omega must be < pi"):
        otc.Harmonic(math.pi, sign=-1)
    with pytest.raises(ValueError, match="g has dimension 3"):
        otc.fit_geodesic(*pair2d, otc.ConstantForce([0.0, 0.0, 1.0]), steps=1, progress=False)
    with pytest.raises(ValueError, match="weights must be"):
        otc.GaussianMixture([[0.0], [1.0]], [[[1.0]], [[1.0]]], weights=[1.0, -1.0])


def test_integrate_options(pair2d):
    with pytest.raises(ValueError, match="method must be"):
        otc.integrate(lambda z, t: z, torch.zeros(3, 2), method="rk45")
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        otc.integrate(lambda z, t: z, torch.zeros(3, 2), steps=0)
    with pytest.raises(TypeError, match="field must be callable"):
        otc.integrate(None, torch.zeros(3, 2))


def test_load_rejects_other_files(tmp_path):
    torch.save({"kind": "something else"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="x.pt is not an ot_core checkpoint"):
        otc.Geodesic.load(tmp_path / "x.pt")
