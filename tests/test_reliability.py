"""No silent wrong answers: bad input, faults and interrupted runs end in a clear error that
names the argument (or the file), a warning, or a correct result."""

import math
import threading
import warnings

import numpy as np
import pytest
import torch

import ot_core as otc
from ot_core import _io

TINY = dict(steps=5, batch_size=64, width=16, depth=2, critic_width=16, critic_depth=2, n_times=4, path_steps=1,
            progress=False)


@pytest.fixture(scope="module")
def geo(pair2d):
    return otc.fit_geodesic(*pair2d, **TINY)


@pytest.fixture(scope="module")
def vel(geo, pair2d):
    return otc.fit_velocity(geo, pair2d[0], steps=5, batch_size=64, width=16, depth=2, progress=False)


@pytest.fixture
def x(pair2d):
    return pair2d[0].sample(16, generator=torch.Generator().manual_seed(1))


# --- settings: every field checked when the config is built --------------------------------------

@pytest.mark.parametrize("field, value", [
    ("steps", True), ("lr_path", "1e-3"), ("betas", 0.5), ("betas", (0.5,)), ("betas", (2.0, 0.9)),
    ("lr_decay", "x"), ("gradient_penalty", -5), ("gradient_penalty", "1"), ("critic_weight_decay", -1),
    ("grad_clip", -1.0), ("grad_clip", "1"), ("path_degree", -1), ("path_degree", 2.5),
    ("warm_start_steps", -5), ("warm_start_steps", "a"), ("activation", "swish"), ("time_derivative", "magic"),
    ("lr_critic", float("inf")), ("n_times", 0), ("ema", True), ("energy_weight", -1.0), ("energy_weight", "3"),
])
def test_config_fields_are_checked_where_the_config_is_built(field, value):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        otc.GeodesicConfig(**{field: value})


@pytest.mark.parametrize("field, value", [("steps", True), ("lr", "1"), ("betas", 0.9), ("activation", "swish")])
def test_velocity_config_fields_are_checked(field, value):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        otc.VelocityConfig(**{field: value})


def test_negative_grad_clip_is_refused_before_any_work(pair2d):
    with pytest.raises(ValueError, match="grad_clip must be None"):
        otc.fit_geodesic(*pair2d, steps=30, batch_size=128, lr_path=1e-2, lr_critic=1e-2, grad_clip=-1.0)


def test_config_normalises_numpy_integers():
    cfg = otc.GeodesicConfig(steps=np.int64(5), betas=[0.5, 0.9])
    assert type(cfg.steps) is int and cfg.betas == (0.5, 0.9)


# --- training that runs away stops ----------------------------------------------------------------

@pytest.mark.parametrize("lr", [10.0, 1e3])
def test_huge_learning_rates_stop_with_a_divergence_error(pair2d, lr):
    with pytest.raises(otc.DivergenceError, match=r"at step \d+"):
        otc.fit_geodesic(*pair2d, **{**TINY, "steps": 30}, lr_path=lr, lr_critic=lr)


def test_concave_cost_warns_and_stops(pair2d):
    with pytest.warns(RuntimeWarning, match="concave"):
        with pytest.raises(otc.DivergenceError, match=r"at step \d+"):
            otc.fit_geodesic(*pair2d, otc.Harmonic(2.5, sign=-1), steps=150, batch_size=128, progress=False,
                             warm_start="none")     # the default start sits on the closed form (chapter 80)


# --- Lagrangians: outputs checked on the first call, parameters at construction ---------------------

@pytest.mark.parametrize("lagrangian", [
    lambda x, v, t: 0.5 * v * v,                                 # (n, d)
    lambda x, v, t: (0.5 * v * v).sum(-1).mean(),               # 0-d
    lambda x, v, t: 1.0,                                         # a float
    lambda x, v, t: np.zeros(len(x)),                            # a numpy array
    lambda x, v, t: None,
    lambda x, v, t: (0.5 * v * v).sum(-1).repeat(2),            # (2n,)
], ids=["n-by-d", "scalar", "float", "numpy", "none", "2n"])
def test_lagrangian_of_the_wrong_shape_is_named(pair2d, lagrangian):
    with pytest.raises(ValueError, match=r"lagrangian\(x, v, t\) must return a tensor of shape \(n,\)"):
        otc.fit_geodesic(*pair2d, lagrangian, **TINY)


def test_lagrangian_with_integer_output_is_named(pair2d):
    with pytest.raises(TypeError, match="lagrangian.*floating-point"):
        otc.fit_geodesic(*pair2d, lambda x, v, t: torch.zeros(len(x), dtype=torch.long), **TINY)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_lagrangian_is_blamed_not_the_learning_rate(pair2d, bad):
    def lagrangian(x, v, t):
        out = (0.5 * v * v).sum(-1).clone()
        out[0] = bad
        return out

    with pytest.raises(ValueError, match="lagrangian.*NaN or infinite"):
        otc.fit_geodesic(*pair2d, lagrangian, **TINY)


def test_harmonic_accepts_float_signs_and_prints(pair2d):
    lag = otc.Harmonic(1.0, sign=1.0)
    assert repr(lag) == "Harmonic(omega=1.0, sign=+1)" and lag.sign == 1 and type(lag.sign) is int
    assert repr(otc.Harmonic(1.0, sign=-1.0)) == "Harmonic(omega=1.0, sign=-1)"
    assert "Harmonic(omega=1.0, sign=+1)" in repr(otc.fit_geodesic(*pair2d, lag, **TINY))
    for bad in (True, 0.5, "1"):
        with pytest.raises(ValueError, match="sign must be"):
            otc.Harmonic(1.0, sign=bad)


def test_harmonic_omega_with_an_infinite_square_is_refused():
    with pytest.raises(ValueError, match="omega must be a positive number"):
        otc.Harmonic(1e200)
    with pytest.raises(ValueError, match="omega must be a positive number"):
        otc.Harmonic("fast")


def test_potential_that_returns_no_tensor_is_named(pair2d):
    with pytest.raises(TypeError, match=r"V\(x, t\) must return a tensor"):
        otc.fit_geodesic(*pair2d, otc.Potential(lambda x, t: 1.0), **TINY)


@pytest.mark.parametrize("center", [[0.0, 0.0, 0.0], [0.0]])
def test_gaussian_bump_of_another_dimension_is_refused(pair2d, center):
    with pytest.raises(ValueError, match=f"GaussianBump center has dimension {len(center)} but x has dimension 2"):
        otc.fit_geodesic(*pair2d, otc.Potential(otc.GaussianBump(center)), **TINY)


def test_gaussian_bump_parameters_are_checked():
    with pytest.raises(ValueError, match="height must be a finite number"):
        otc.GaussianBump([0.0, 0.0], height=float("nan"))
    with pytest.raises(ValueError, match="center contains NaN"):
        otc.GaussianBump([float("nan"), 0.0])
    with pytest.raises(ValueError, match="center must be a non-empty vector"):
        otc.GaussianBump([])


def test_a_class_instead_of_an_instance_is_named(pair2d):
    with pytest.raises(TypeError, match=r"lagrangian must be an instance such as Harmonic\(...\)"):
        otc.fit_geodesic(*pair2d, otc.Harmonic, **TINY)


# --- checkpoints ----------------------------------------------------------------------------------

@pytest.fixture
def saved(geo, tmp_path):
    path = tmp_path / "geo.pt"
    geo.save(path)
    return path


@pytest.mark.parametrize("damage", ["text", "empty", "half", "last10", "header", "tensor", "list"])
def test_damaged_or_foreign_files_are_refused_by_name(saved, damage):
    raw = saved.read_bytes()
    if damage == "text":
        saved.write_text("hello world\n")
    elif damage == "empty":
        saved.write_bytes(b"")
    elif damage == "half":
        saved.write_bytes(raw[: len(raw) // 2])
    elif damage == "last10":
        saved.write_bytes(raw[:-10])
    elif damage == "header":
        saved.write_bytes(b"\x80\x80\x80\x80" + raw[4:])
    elif damage == "tensor":
        torch.save(torch.zeros(3), saved)
    else:
        torch.save([1, 2, 3], saved)
    with pytest.raises(ValueError, match=r"geo\.pt is not (a readable|an) ot_core checkpoint"):
        otc.Geodesic.load(saved)


def test_flipped_bytes_in_the_weights_are_caught(saved):
    raw = bytearray(saved.read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 16] = bytes(b ^ 0xFF for b in raw[middle:middle + 16])
    saved.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"geo\.pt (is damaged|is not a readable)"):
        otc.Geodesic.load(saved)


def test_interrupted_save_keeps_the_previous_file(geo, saved, monkeypatch):
    before = saved.read_bytes()

    def interrupted(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        geo.save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["geo.pt"]        # no temporary file left
    assert repr(otc.Geodesic.load(saved)) == repr(geo)


def test_save_names_a_missing_folder_or_a_directory(geo, tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot save to .*the folder .*missing does not exist"):
        geo.save(tmp_path / "missing" / "geo.pt")
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        geo.save(tmp_path)


def test_save_and_load_with_file_objects(geo, vel, x):
    import io

    buffer = io.BytesIO()
    geo.save(buffer)
    buffer.seek(0)
    assert torch.equal(otc.Geodesic.load(buffer).map(x), geo.map(x))
    buffer = io.BytesIO()
    vel.save(buffer)
    buffer.seek(0)
    assert torch.equal(otc.VelocityField.load(buffer)(x, 0.5), vel(x, 0.5))


def test_missing_or_unknown_settings_name_the_file(geo, tmp_path):
    state = geo.state()
    del state["config"]
    _io.save(state, tmp_path / "nocfg.pt", "Geodesic")
    with pytest.raises(ValueError, match=r"nocfg\.pt lacks config"):
        otc.Geodesic.load(tmp_path / "nocfg.pt")
    state = geo.state()
    state["config"]["new_option"] = 1
    _io.save(state, tmp_path / "newer.pt", "Geodesic")
    with pytest.raises(ValueError, match=r"newer\.pt has GeodesicConfig settings .*new_option"):
        otc.Geodesic.load(tmp_path / "newer.pt")


class _TwiceHarmonic(otc.Harmonic):
    def potential(self, x, t):
        return 2 * super().potential(x, t)


class _Own(otc.Lagrangian):
    def potential(self, x, t):
        return (x * x).sum(-1)


@pytest.mark.parametrize("lagrangian", [
    lambda x, v, t: 0.5 * (v * v).sum(-1), otc.Potential(lambda x, t: (x * x).sum(-1)), _TwiceHarmonic(1.0), _Own(),
], ids=["function", "potential-of-own-V", "subclass-of-harmonic", "subclass-of-lagrangian"])
def test_lagrangians_a_file_cannot_rebuild_are_not_restored_silently(pair2d, tmp_path, x, lagrangian):
    geo = otc.fit_geodesic(*pair2d, lagrangian, **TINY)
    geo.save(tmp_path / "g.pt")
    with pytest.warns(UserWarning, match=r"g\.pt was trained with .*Pass it again.*lagrangian="):
        again = otc.Geodesic.load(tmp_path / "g.pt")
    assert again.lagrangian is None                                     # never the parent class
    assert torch.equal(again.map(x), geo.map(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert otc.Geodesic.load(tmp_path / "g.pt", lagrangian=lagrangian).lagrangian is lagrangian


@pytest.mark.parametrize("lagrangian", [otc.Kinetic(), otc.Harmonic(1.5, sign=-1), otc.ConstantForce([0.0, 1.0]),
                                        otc.Potential(otc.GaussianBump([1.0, 0.5], 0.4, 5.0))], ids=repr)
def test_built_in_lagrangians_come_back_exactly(pair2d, tmp_path, lagrangian):
    geo = otc.fit_geodesic(*pair2d, lagrangian, **TINY)
    geo.save(tmp_path / "g.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = otc.Geodesic.load(tmp_path / "g.pt").lagrangian
    assert type(again) is type(lagrangian) and repr(again) == repr(lagrangian)


# --- integrate ------------------------------------------------------------------------------------

def test_float64_start_works_at_every_step_count(x):
    def field(z, t):
        assert (t >= 0).all() and (t <= 1).all(), "time node outside [0, 1]"
        return -z

    for method in ("euler", "midpoint", "rk4"):
        for steps in range(1, 261):
            otc.integrate(field, x.double(), steps=steps, method=method)


def test_float64_start_through_a_velocity_field(vel, x):
    assert otc.integrate(vel, x.double(), steps=93).dtype == torch.float64


@pytest.mark.parametrize("output, shape", [
    (lambda z: torch.ones(len(z), 1), r"\(16, 1\)"), (lambda z: torch.ones(len(z), 3), r"\(16, 3\)"),
    (lambda z: torch.ones(2), r"\(2,\)"), (lambda z: torch.tensor(1.0), r"\(\)"),
    (lambda z: torch.ones(2 * len(z), 2), r"\(32, 2\)"),
], ids=["n-by-1", "n-by-3", "d", "scalar", "2n-by-d"])
def test_field_of_the_wrong_shape_is_named(x, output, shape):
    with pytest.raises(ValueError, match=rf"field\(z, t\) must return velocities of the shape of z, \(16, 2\), got {shape}"):
        otc.integrate(lambda z, t: output(z), x)


def test_field_returning_nothing_is_named(x):
    with pytest.raises(TypeError, match=r"field\(z, t\) must return a tensor"):
        otc.integrate(lambda z, t: None, x)


def test_non_finite_solution_warns(x):
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        otc.integrate(lambda z, t: z * float("nan"), x)


@pytest.mark.parametrize("options, pattern", [
    (dict(t1=float("nan")), "t1 must be a finite number"), (dict(t0="a"), "t0 must be a finite number"),
    (dict(steps=True), "steps must be a positive integer"),
])
def test_integrate_times_and_steps_are_checked(x, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        otc.integrate(lambda z, t: -z, x, **options)


# --- inputs of the results ------------------------------------------------------------------------

def test_potential_names_its_argument_y(geo):
    with pytest.raises(ValueError, match="y has dimension 3"):
        geo.potential(torch.zeros(4, 3))


@pytest.mark.parametrize("t", [None, "0.5"])
def test_time_that_is_not_a_number_is_named(geo, x, t):
    with pytest.raises(TypeError, match="t must be a float in"):
        geo.path(x, t)


def test_complex_input_is_refused(geo):
    with pytest.raises(TypeError, match="x must hold real numbers"):
        geo.map(torch.zeros(2, 2, dtype=torch.complex64) + 1j)


def test_values_beyond_float32_are_refused(geo):
    with pytest.raises(ValueError, match="x has values beyond the float32 range"):
        geo.map(torch.tensor([[1e300, 0.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="samples has values beyond the float32 range"):
        otc.Empirical(np.array([[1e300, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="beyond the float32 range"):
        otc.Gaussian([1e300, 0.0], torch.eye(2))


def test_l2_uvp_needs_a_truth_with_variance():
    with pytest.raises(ValueError, match="true must have at least 2 rows"):
        otc.metrics.l2_uvp(torch.zeros(1, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="true has zero variance"):
        otc.metrics.l2_uvp(torch.zeros(3, 2), torch.ones(3, 2))


# --- distributions --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0, 2), (5, 0)])
def test_empty_empirical_is_refused(pair2d, shape):
    with pytest.raises(ValueError, match="samples must hold at least one row of at least one column"):
        otc.fit_geodesic(otc.Empirical(torch.zeros(shape)), pair2d[1], **TINY)


def test_gaussian_parameters_are_checked():
    with pytest.raises(ValueError, match=r"mean must be a non-empty vector of shape \(d,\), got shape \(2, 2\)"):
        otc.Gaussian([[0.0, 0.0], [0.0, 0.0]], torch.eye(4))
    with pytest.raises(TypeError, match="mean must be an array of numbers"):
        otc.Gaussian(["a", "b"], torch.eye(2))
    with pytest.raises(TypeError, match="cov must be an array of numbers"):
        otc.Gaussian([0.0, 0.0], "eye")
    with pytest.raises(ValueError, match="means must have shape"):
        otc.GaussianMixture(torch.zeros(0, 2), torch.eye(2))


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_sample_size_is_checked(x, n):
    for dist in (otc.Gaussian([0.0, 0.0], torch.eye(2)), otc.Empirical(x),
                 otc.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], torch.eye(2))):
        with pytest.raises(ValueError, match="n must be a non-negative integer"):
            dist.sample(n)


# --- faults: interruption, devices, threads -------------------------------------------------------

def test_interrupted_fit_closes_its_progress_bar(pair2d):
    from tqdm.auto import tqdm

    def interrupt(step, record):
        if step == 3:
            raise KeyboardInterrupt

    before = len(getattr(tqdm, "_instances", ()))
    with pytest.raises(KeyboardInterrupt):
        otc.fit_geodesic(*pair2d, **{**TINY, "steps": 50, "progress": True}, callback=interrupt)
    assert len(getattr(tqdm, "_instances", ())) == before


def test_failed_fit_velocity_leaves_the_geodesic_alone(geo, pair2d, x):
    before = geo.map(x)
    with pytest.raises(Exception):
        otc.fit_velocity(geo, pair2d[0], device="meta", steps=2, progress=False)
    assert geo.device == torch.device("cpu") and torch.equal(geo.map(x), before)


def test_seeded_fits_agree_across_threads(pair2d):
    options = dict(steps=3, batch_size=64, width=32, depth=2, critic_width=32, critic_depth=2, progress=False)
    alone = {s: otc.fit_geodesic(*pair2d, seed=s, **options).history["critic_loss"] for s in range(4)}
    for _ in range(3):
        threaded = {}

        def job(s):
            threaded[s] = otc.fit_geodesic(*pair2d, seed=s, **options).history["critic_loss"]

        threads = [threading.Thread(target=job, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert threaded == alone


def test_harmonic_sign_minus_one_at_pi_is_refused():
    with pytest.raises(ValueError, match="omega must be < pi"):
        otc.Harmonic(math.pi, sign=-1.0)


def test_times_a_rounding_error_outside_the_unit_interval_are_clamped(geo, vel, x):
    assert torch.equal(geo.path(x, 1.0 + 2e-16), geo.map(x))
    t = torch.full((len(x), 1), 1.0000000000000002, dtype=torch.float64)
    assert torch.equal(vel(x, t), vel(x, 1.0))
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        vel(x, torch.full((len(x), 1), 1.001))
