"""The start of the game: the moment-matched map with its critic, the rule of the "auto"
settings, and the paths bent to a Lagrangian before training."""

import pytest
import torch

import ot_core as otc
from ot_core.nets import Critic, PathNet, build


def resolved(source, target, **options):
    geo = otc.fit_geodesic(source, target, steps=1, progress=False, **options)
    return geo.config.warm_start, geo.config.energy_weight


def test_auto_chooses_the_start_and_the_energy_term_from_the_data():
    assert resolved(*otc.problems.gaussian_pair_2d()) == ("moments", 0.0)
    assert resolved(*otc.problems.brenier_pair(16)) == ("moments", 0.0)      # smoothly deformed Gaussian
    assert resolved(*otc.problems.mixture_pair(2)) == ("matching", 0.3)      # several modes, in the plane
    assert resolved(*otc.problems.mixture_pair(10)) == ("none", 0.3)         # above MATCHING_MAX_DIM
    big = otc.Gaussian(torch.zeros(300), torch.eye(300))
    assert resolved(big, big) == ("none", 0.0)                               # above MOMENTS_MAX_DIM
    line = torch.linspace(-1, 1, 500)[:, None] * torch.tensor([[1.0, 2.0]])  # degenerate covariance
    assert resolved(otc.Empirical(line), otc.problems.gaussian_pair_2d()[1]) == ("none", 0.0)
    # explicit settings are kept as given
    assert resolved(*otc.problems.mixture_pair(2), warm_start="moments", energy_weight=0.0) == ("moments", 0.0)


def test_networks_of_your_own_start_at_the_identity_unless_they_can_take_the_start(pair2d):
    src, tgt = pair2d
    mine = build(PathNet, 2, seed=0)                       # no affine part
    geo = otc.fit_geodesic(src, tgt, steps=1, progress=False, path_net=mine)
    assert geo.config.warm_start == "none"
    with pytest.raises(ValueError, match='warm_start="moments".*path_net'):
        otc.fit_geodesic(src, tgt, steps=1, progress=False, path_net=build(PathNet, 2, seed=0),
                         warm_start="moments")


def test_set_affine_makes_the_map_that_affine_map():
    src, tgt = otc.problems.gaussian_pair(5, seed=1)
    x, y = src.sample(4096, torch.Generator().manual_seed(0)), tgt.sample(4096, torch.Generator().manual_seed(1))
    net = build(PathNet, 5, affine=True, seed=0)
    net.set_scale(torch.cat([x, y]))
    lin = otc.exact.moment_matched(x, y)
    net.set_affine(lin.m0, lin.m1, lin.A)
    z = src.sample(1000, torch.Generator().manual_seed(2))
    assert torch.allclose(net.map(z), lin.map(z), atol=1e-4)
    t = torch.full((1000, 1), 0.3)
    assert torch.allclose(net(z, t), 0.7 * z + 0.3 * lin.map(z), atol=1e-4)  # straight paths
    with pytest.raises(ValueError, match="affine=True"):
        build(PathNet, 5, seed=0).set_affine(lin.m0, lin.m1, lin.A)
    with pytest.raises(ValueError, match="shape"):
        net.set_affine(lin.m0[:3], lin.m1, lin.A)


def test_set_quadratic_recovers_a_quadratic_potential():
    gen = torch.Generator().manual_seed(0)
    M = torch.randn(3, 3, generator=gen)
    Q, b = M @ M.T + torch.eye(3), torch.randn(3, generator=gen)
    y = 2 + 3 * torch.randn(2000, 3, generator=gen)
    critic = build(Critic, 3, quadratic=True, seed=0)
    critic.set_scale(y)
    critic.set_quadratic(y, y @ Q + b)                     # ∇(½yᵀQy + b·y)
    z = torch.randn(500, 3, generator=gen).requires_grad_(True)
    grad = torch.autograd.grad(critic(z).sum(), z)[0]
    assert torch.allclose(grad, z.detach() @ Q + b, atol=1e-3)


def test_the_start_bends_the_paths_to_the_lagrangian(pair2d, x2d):
    src, tgt = pair2d
    lag, exact = otc.Harmonic(1.0, +1), otc.exact.harmonic(src, tgt, 1.0, +1)
    straight = otc.metrics.path_error(otc.baselines.straight_paths(exact), exact, x2d)
    started = otc.fit_geodesic(src, tgt, lag, steps=1, progress=False)
    cold = otc.fit_geodesic(src, tgt, lag, steps=1, progress=False, warm_start="none")
    assert started.config.warm_start == "moments"
    assert otc.metrics.path_error(started, exact, x2d) < 0.2 * straight       # bent before the game
    assert otc.metrics.path_error(cold, exact, x2d) > 10 * straight


def test_energy_weight_auto_is_the_only_word_it_takes():
    assert otc.GeodesicConfig(energy_weight="auto").energy_weight == "auto"
    with pytest.raises(ValueError, match="energy_weight"):
        otc.GeodesicConfig(energy_weight="large")
    with pytest.raises(ValueError, match="warm_start"):
        otc.GeodesicConfig(warm_start="gaussian")


def test_a_lagrangian_that_breaks_during_the_start_is_reported_as_the_start(pair2d):
    calls = {"n": 0}

    def late(x, v, t):
        calls["n"] += 1                   # the check before training passes, the start's paths do not
        return 0.5 * (v**2).sum(-1) * (float("nan") if calls["n"] > 1 else 1.0)

    with pytest.raises(otc.DivergenceError, match="start.*before step 0.*warm_start"):
        otc.fit_geodesic(*pair2d, late, steps=5, progress=False)


def test_a_lagrangian_in_double_precision_takes_the_start(pair2d, x2d):
    src, tgt = pair2d
    geo = otc.fit_geodesic(src, tgt, lambda x, v, t: (0.5 * v * v).sum(-1).double(), steps=2, progress=False)
    assert geo.config.warm_start == "moments"
    exact = otc.exact.gaussian(src, tgt)
    assert otc.metrics.l2_uvp(geo.map(x2d), exact.map(x2d)) < 0.5


def test_moment_mismatch_tells_one_mode_from_several():
    gen = torch.Generator().manual_seed(0)
    gauss = otc.problems.gaussian_pair(10)
    mix = otc.problems.mixture_pair(10)
    near = otc.metrics.moment_mismatch(gauss[0].sample(4096, gen), gauss[1].sample(4096, gen))
    far = otc.metrics.moment_mismatch(mix[0].sample(4096, gen), mix[1].sample(4096, gen))
    limit = otc.config.MOMENTS_MAX_MISMATCH
    assert abs(near) < limit / 2 and far > 2 * limit, (near, far)
    with pytest.raises(ValueError, match="at least 4 samples"):
        otc.metrics.moment_mismatch(torch.zeros(3, 2), torch.zeros(3, 2))


def _two_sides(d: int = 2):
    """A Gaussian onto two small components at ±3 e₁: the optimal map cuts the source at x₁ = 0."""
    centres = torch.zeros(2, d)
    centres[:, 0] = torch.tensor([-3.0, 3.0])
    return otc.Gaussian(torch.zeros(d), torch.eye(d)), otc.GaussianMixture(centres, 0.01 * torch.eye(d))


def test_the_matching_start_cuts_the_source(device):
    src, tgt = _two_sides()
    geo = otc.fit_geodesic(src, tgt, steps=1, progress=False, device=device, warm_start="matching")
    x = src.sample(4000, torch.Generator().manual_seed(5)).to(device)
    end = geo.map(x)
    assert end.device.type == device.type
    assert ((end[:, 0] > 0) == (x[:, 0] > 0)).float().mean() > 0.97    # each half to its component
    on_a_component = lambda e: ((e[:, 0].abs() - 3).abs() < 0.5) & (e[:, 1].abs() < 0.5)
    assert on_a_component(end).float().mean() > 0.9
    cold = otc.fit_geodesic(src, tgt, steps=1, progress=False, device=device, warm_start="none")
    assert on_a_component(cold.map(x)).float().mean() < 0.1            # the identity start


def test_the_matching_start_fits_a_critic_that_holds_the_map():
    from ot_core import solver
    from ot_core.results import build_nets

    src, tgt = _two_sides()
    gen = torch.Generator().manual_seed(0)
    x, y = src.sample(4096, gen), tgt.sample(4096, gen)
    cfg = otc.GeodesicConfig(warm_start="matching", fourier_features=64, critic_input_gain=2.0)

    def critic_error(fit_steps):
        """mean |∇φ(T(x, 1)) − (T(x, 1) − x)| / mean |T(x, 1) − x| after the start: the stationarity of T."""
        path_net, critic = build_nets(2, cfg, seed=0)
        for net in (path_net, critic):
            net.set_scale(torch.cat([x, y]))
        steps, solver.MATCH_CRITIC_STEPS = solver.MATCH_CRITIC_STEPS, fit_steps
        try:
            solver._start_at_matching(path_net, critic, otc.Kinetic(), x, y, x, y, torch.Generator().manual_seed(1))
        finally:
            solver.MATCH_CRITIC_STEPS = steps
        end = path_net.map(x).detach()
        z = end.clone().requires_grad_(True)
        grad = torch.autograd.grad(critic(z).sum(), z)[0]
        return float((grad - (end - x)).norm(dim=1).mean() / (end - x).norm(dim=1).mean())

    fitted, quadratic = critic_error(solver.MATCH_CRITIC_STEPS), critic_error(0)
    assert fitted < 0.15 and fitted < 0.6 * quadratic, (fitted, quadratic)   # measured: 0.11 against 0.22


def test_the_matching_start_needs_a_critic_with_a_quadratic_part():
    src, tgt = _two_sides()
    with pytest.raises(ValueError, match='warm_start="matching".*critic'):
        otc.fit_geodesic(src, tgt, steps=1, progress=False, warm_start="matching",
                         critic=build(Critic, 2, seed=0))
