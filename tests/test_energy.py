"""The energy distance: the statistic (``metrics.energy_distance``) and the term of T's loss
(``energy_weight``)."""

import math

import pytest
import torch

import ot_core as otc
from ot_core.losses import energy_distance


def _normal_abs_mean(mu: float, var: float) -> float:
    """E|Z| for Z ~ N(mu, var)."""
    s = math.sqrt(var)
    return s * math.sqrt(2 / math.pi) * math.exp(-mu * mu / (2 * var)) + mu * math.erf(mu / (s * math.sqrt(2)))


def test_energy_distance_matches_the_closed_form_in_one_dimension():
    # N(0, 1) against N(δ, 1): 2E|N(δ, 2)| − 2E|N(0, 2)|
    g = torch.Generator().manual_seed(0)
    for delta in (0.5, 2.0):
        x = torch.randn(4000, 1, generator=g, dtype=torch.float64)
        y = delta + torch.randn(4000, 1, generator=g, dtype=torch.float64)
        exact = 2 * _normal_abs_mean(delta, 2.0) - 2 * _normal_abs_mean(0.0, 2.0)
        assert otc.metrics.energy_distance(x, y) == pytest.approx(exact, rel=0.1, abs=0.01)


def test_energy_distance_is_unbiased_for_two_samples_of_one_law():
    g = torch.Generator().manual_seed(1)
    values = torch.tensor([otc.metrics.energy_distance(torch.randn(50, 3, generator=g),
                                                       torch.randn(50, 3, generator=g)) for _ in range(300)])
    # the mean is zero within 4 standard errors; a biased (V-statistic) estimate is off by ~E|X−X'|/50
    assert abs(float(values.mean())) < 4 * float(values.std()) / math.sqrt(len(values))
    biased_offset = 2 * math.sqrt(2 * 3) / 50          # about E|X − X'| / n for n = 50 in 3-D
    assert abs(float(values.mean())) < 0.25 * biased_offset


def test_energy_distance_exposes_a_collapsed_map_that_w2_against_its_floor_does_not():
    # chapter 10: in 50-D, every image sent to the mean scores W2 below the sampling floor
    g = torch.Generator().manual_seed(2)
    y, fresh, x = (torch.randn(500, 50, generator=g) for _ in range(3))
    collapsed = torch.zeros_like(x)
    assert otc.metrics.empirical_w2(collapsed, y) < otc.metrics.empirical_w2(fresh, y)
    floor = abs(otc.metrics.energy_distance(fresh, y))
    assert otc.metrics.energy_distance(collapsed, y) > 50 * max(floor, 1e-3)


def test_energy_distance_has_finite_gradients_at_repeated_points_and_checks_its_input():
    x = torch.randn(10, 4).repeat(3, 1).requires_grad_(True)     # every row three times
    energy_distance(x, torch.randn(20, 4)).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="at least 2 rows"):
        energy_distance(torch.randn(1, 4), torch.randn(5, 4))
    with pytest.raises(ValueError, match="b"):
        otc.metrics.energy_distance(torch.randn(5, 4), torch.randn(5, 3))


def test_the_energy_term_is_added_to_the_loss_of_T_only_when_asked(pair2d):
    path_net, critic = otc.results.build_nets(2, otc.GeodesicConfig(), 0, torch.device("cpu"))
    x, y = pair2d[0].sample(64), pair2d[1].sample(64)
    t, w = otc.solver.gauss_legendre(4, torch.device("cpu"))
    lag = otc.Kinetic()
    plain, act = otc.losses.path_loss(path_net, critic, lag, x, t, w)
    with_term, act2 = otc.losses.path_loss(path_net, critic, lag, x, t, w, y, 2.0)
    assert torch.equal(act, act2)
    expected = 2.0 * energy_distance(path_net.map(x), y)
    assert float((with_term - plain).detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
