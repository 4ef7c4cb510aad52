import pytest
import torch

import ot_core as otc

# These networks are small: one CPU thread is fastest, and tests that share the machine
# (with each other, or with the notebooks) do not oversubscribe it.
torch.set_num_threads(1)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer training runs (deselect with -m 'not slow')")


@pytest.fixture(params=DEVICES)
def device(request):
    """Every available device: the CPU always, CUDA where present."""
    return torch.device(request.param)


@pytest.fixture(scope="session")
def pair2d():
    """The anisotropic 2-D Gaussian pair used across tests and benchmarks."""
    return otc.problems.gaussian_pair_2d()


@pytest.fixture(scope="session")
def fitted(pair2d):
    """A short Phase 1 + Phase 2 fit on the 2-D pair, shared by several tests."""
    src, tgt = pair2d
    geo = otc.fit_geodesic(src, tgt, steps=200, progress=False, seed=0, device="cpu")
    vel = otc.fit_velocity(geo, src, steps=500, progress=False, seed=0, device="cpu")
    return geo, vel


@pytest.fixture
def x2d(pair2d):
    return pair2d[0].sample(5000, generator=torch.Generator().manual_seed(7))
