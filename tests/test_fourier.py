"""Random Fourier features of the map network (``PathNet(fourier=m)``, ``fourier_features``):
drawn with the weights, the identity start kept, saved and loaded, and what they are for: a
sharp cut learned faster than by a plain network."""

import pytest
import torch

import ot_core as otc
from ot_core.nets import Critic, PathNet, build


def test_features_are_drawn_with_the_weights_and_keep_the_identity_start():
    a, b, c = (build(PathNet, 3, fourier=16, fourier_scale=2.0, seed=s) for s in (0, 0, 1))
    assert a.frequencies.shape == (3, 16)
    assert torch.equal(a.frequencies, b.frequencies) and not torch.equal(a.frequencies, c.frequencies)
    big = build(PathNet, 50, fourier=400, fourier_scale=2.0, seed=0)
    # b_j ~ N(0, scale²/d · I): the phase x̂·b_j of a standardised input has standard deviation ≈ scale
    assert abs(float(big.frequencies.std()) * 50**0.5 - 2.0) < 0.05
    x = torch.randn(100, 3)
    assert torch.equal(a.map(x), x)                                     # T(x, 1) = x at the start
    assert a.F[0].in_features == 3 + 2 * 16
    assert build(PathNet, 3, seed=0).frequencies is None
    for bad in (dict(fourier=-1), dict(fourier=2.5), dict(fourier=True), dict(fourier_scale=0.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            PathNet(3, **bad)


def cut_left_open(fourier: int, steps: int = 300) -> float:
    """Regress T(·, 1) on a map that cuts the plane along x₁ = 0 (x₁ → ±3); the share of
    points left between the two sides (|T₁| < 2) after ``steps`` Adam steps."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4096, 2, generator=gen)
    y = x.clone()
    y[:, 0] = torch.where(x[:, 0] > 0, 3.0, -3.0) + 0.1 * x[:, 0]
    net = build(PathNet, 2, fourier=fourier, seed=0)
    net.set_scale(torch.cat([x, y]))
    opt = torch.optim.Adam(net.parameters(), 1e-3, betas=(0.5, 0.999))
    for _ in range(steps):
        i = torch.randint(0, len(x), (512,), generator=gen)
        loss = ((net.map(x[i]) - y[i]) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float((net.map(x)[:, 0].abs() < 2).float().mean())


def test_features_let_the_map_learn_a_sharp_cut_faster():
    plain, featured = cut_left_open(0), cut_left_open(64)
    assert featured < 0.5 * plain, (featured, plain)                   # measured: 0.020 against 0.066


def settings(source, target, **options):
    cfg = otc.fit_geodesic(source, target, steps=1, progress=False, **options).config
    return cfg.fourier_features, cfg.critic_input_gain


def test_auto_sharpens_both_networks_for_targets_with_several_modes():
    auto = otc.config.AUTO_FOURIER_FEATURES, otc.config.AUTO_CRITIC_INPUT_GAIN
    assert settings(*otc.problems.mixture_pair(2)) == auto                      # several modes, in the plane
    assert settings(*otc.problems.mixture_pair(10)) == (auto[0], 1.0)            # the gain only up to 2-D
    assert settings(*otc.problems.gaussian_pair_2d()) == (0, 1.0)                # one mode
    big = otc.Gaussian(torch.zeros(300), torch.eye(300))
    assert settings(big, big) == (0, 1.0)                                        # no test above 256-D
    assert settings(*otc.problems.mixture_pair(2), fourier_features=8, critic_input_gain=1.5) == (8, 1.5)


def test_features_are_saved_and_old_files_load_without_them(tmp_path):
    src, tgt = otc.problems.mixture_pair(2)
    geo = otc.fit_geodesic(src, tgt, steps=2, progress=False)            # the matching start: a quadratic critic
    assert otc.fit_geodesic(src, tgt, steps=1, progress=False, fourier_features=8,
                            warm_start="none").config.fourier_features == 8
    path = tmp_path / "mixture.pt"
    geo.save(path)
    back = otc.Geodesic.load(path)
    x = src.sample(200, torch.Generator().manual_seed(3))
    assert torch.equal(back.map(x), geo.map(x))
    assert torch.equal(back.critic(x), geo.critic(x))
    # a file saved before the setting existed was trained without features
    state = geo.state()
    plain = otc.fit_geodesic(src, tgt, steps=2, progress=False, fourier_features=0, critic_input_gain=1.0,
                             warm_start="none").state()
    del plain["config"]["fourier_features"], plain["config"]["critic_input_gain"]
    old = otc.Geodesic.from_state(plain)
    assert (old.config.fourier_features, old.config.critic_input_gain) == (0, 1.0)
    del state["config"]["fourier_features"]
    with pytest.raises(ValueError, match="does not match the networks"):
        otc.Geodesic.from_state(state)


@pytest.mark.parametrize("value", [-1, 1.5, "many", True])
def test_fourier_features_takes_a_count_or_auto(value):
    with pytest.raises(ValueError, match="fourier_features"):
        otc.GeodesicConfig(fourier_features=value)
    with pytest.raises(ValueError, match="fourier_scale"):
        otc.GeodesicConfig(fourier_scale=0)


def test_critic_input_gain_sharpens_the_first_layer_and_nothing_else():
    y = 3 + 2 * torch.randn(300, 4, generator=torch.Generator().manual_seed(0))
    plain, sharp = (build(Critic, 4, quadratic=True, input_gain=g, seed=0) for g in (1.0, 2.5))
    for c in (plain, sharp):
        c.set_scale(y)
        with torch.no_grad():
            c.Q.copy_(torch.eye(4))                # a quadratic part, which the gain leaves alone
    assert not torch.allclose(plain(y), sharp(y))
    with torch.no_grad():                          # the gain is the first layer's weights times g
        plain.net[0].weight.mul_(2.5)
    assert torch.allclose(plain(y), sharp(y), atol=1e-5)
    assert otc.GeodesicConfig(critic_input_gain=2).critic_input_gain == 2.0
    for bad in (0, -1.0, float("nan"), "2"):
        with pytest.raises(ValueError, match="input_gain"):
            otc.GeodesicConfig(critic_input_gain=bad)
        with pytest.raises(ValueError, match="input_gain"):
            Critic(4, input_gain=bad)
