"""The peers: discrete OT, the linear map, straight paths, OT flow matching, and the metrics."""

import numpy as np
import pytest
import torch

import ot_core as otc


def test_discrete_ot_finds_the_sorting_permutation_in_1d():
    x = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    y = torch.tensor([[3.5], [0.5], [2.5], [1.5]])
    dot = otc.baselines.DiscreteOT(x, y)
    assert torch.allclose(dot.map(x), torch.tensor([[0.5], [1.5], [2.5], [3.5]]))
    assert dot.cost == pytest.approx(0.5 * 0.25)      # ½ mean squared displacement
    assert torch.allclose(dot.path(t=0.5), x + 0.25)
    with pytest.raises(ValueError, match="source samples the plan was computed on"):
        dot.map(x + 1)


def test_empirical_w2_matches_the_gaussian_closed_form(pair2d):
    src, tgt = pair2d
    g = torch.Generator().manual_seed(0)
    w2 = otc.metrics.empirical_w2(src.sample(2000, generator=g), tgt.sample(2000, generator=g))
    exact = otc.exact.gaussian(src, tgt).w2
    floor = otc.metrics.w2_floor(tgt, 2000)
    assert abs(w2 - exact) < 0.05 * exact
    assert 0 < floor < 0.2 * exact


def test_linear_map_is_exact_for_gaussians_up_to_sampling(pair2d, x2d):
    src, tgt = pair2d
    g = torch.Generator().manual_seed(0)
    lin = otc.baselines.linear_map(src.sample(20_000, generator=g), tgt.sample(20_000, generator=g))
    ex = otc.exact.gaussian(src, tgt)
    assert otc.metrics.l2_uvp(lin.map(x2d), ex.map(x2d)) < 0.2
    mix = otc.GaussianMixture([[-3.0, 0.0], [3.0, 0.0]], 0.2 * torch.eye(2))
    lin_mix = otc.baselines.linear_map(src.sample(5000, generator=g), mix.sample(5000, generator=g))
    floor = otc.metrics.w2_floor(mix, 1000)
    assert otc.metrics.empirical_w2(lin_mix.map(x2d[:1000]), mix.sample(1000, generator=g)) > 3 * floor


def test_straight_paths_and_identity(pair2d, x2d):
    ex = otc.exact.harmonic(*pair2d, 1.0, +1)
    straight = otc.baselines.straight_paths(ex)
    assert torch.allclose(straight.path(x2d, 1.0), ex.map(x2d).float(), atol=1e-5)
    assert otc.metrics.path_error(straight, ex, x2d) > 0.5
    assert otc.metrics.l2_uvp(otc.baselines.Identity().map(x2d), ex.map(x2d)) > 100


def test_flow_matching_learns_the_map_and_is_reproducible(pair2d, x2d):
    src, tgt = pair2d
    ex = otc.exact.gaussian(src, tgt)
    field = otc.baselines.flow_matching(src, tgt, steps=150, progress=False)
    assert otc.metrics.l2_uvp(otc.integrate(field, x2d, steps=20), ex.map(x2d)) < 5.0
    a = otc.baselines.flow_matching(src, tgt, steps=3, progress=False, seed=1)
    b = otc.baselines.flow_matching(src, tgt, steps=3, progress=False, seed=1)
    assert a.history["loss"] == b.history["loss"]
    state = np.random.get_state()[1].copy()
    otc.baselines.flow_matching(src, tgt, steps=2, progress=False)
    assert np.array_equal(np.random.get_state()[1], state)   # numpy's global RNG left alone
    short = otc.baselines.flow_matching(src, tgt, steps=10_000, seconds=0.5, progress=False)
    assert len(short.history["loss"]) < 10_000
