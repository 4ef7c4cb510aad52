"""Checkpoint files: written atomically, verified by a checksum, read with ``weights_only=True``.

A file holds ``{"format": "ot_core", "kind": ..., "sha256": ..., "payload": {...}}``. The
checksum covers every tensor (dtype, shape and bytes) and every other value of the payload, so
a damaged or edited file is refused with a message that names it, before anything is built
from it. Nothing is unpickled beyond what ``torch.load(..., weights_only=True)`` allows."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch

FORMAT = "ot_core"


def _digest(payload) -> str:
    h = hashlib.sha256()

    def walk(obj, key: str):
        if isinstance(obj, torch.Tensor):
            t = obj.detach().cpu().contiguous()
            h.update(f"{key}:{t.dtype}:{tuple(t.shape)}:".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(obj, dict):
            for k in sorted(obj, key=str):
                walk(obj[k], f"{key}/{k}")
        elif isinstance(obj, (list, tuple)):
            h.update(f"{key}:{type(obj).__name__}[{len(obj)}]".encode())
            for i, v in enumerate(obj):
                walk(v, f"{key}/{i}")
        else:
            h.update(f"{key}={json.dumps(obj, default=repr)}".encode())

    walk(payload, "")
    return h.hexdigest()


def _is_file_object(path) -> bool:
    return hasattr(path, "write") or hasattr(path, "read")


def _short(exc: BaseException) -> str:
    """The first line of an exception's message (torch's may run to a paragraph)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def save(payload: dict, path, kind: str) -> None:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, flushed
    to disk, then renamed over the target, so an interrupted save never destroys a good file.
    ``path`` may also be an open binary file object (written directly)."""
    record = {"format": FORMAT, "kind": kind, "sha256": _digest(payload), "payload": payload}
    if _is_file_object(path):
        torch.save(record, path)
        return
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a directory; pass a file name")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(path, kind: str) -> dict:
    """The payload of a file written by :func:`save`, after checking its kind and checksum;
    every error names the file."""
    if _is_file_object(path):
        source, path = path, getattr(path, "name", None) or f"<{type(path).__name__}>"
    else:
        path = source = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # torch's notes on pickle protocols of damaged files
            record = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:
        if "Weights only load failed" in str(exc):
            raise ValueError(f"{path} is not a readable ot_core checkpoint: it holds objects other than tensors "
                             "and plain data, which are never unpickled") from exc
        if isinstance(source, Path) and source.stat().st_size == 0:
            raise ValueError(f"{path} is not a readable ot_core checkpoint: it is empty") from exc
        raise ValueError(f"{path} is not a readable ot_core checkpoint: it is damaged, truncated or another "
                         f"kind of file ({_short(exc)})") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT or "payload" not in record:
        raise ValueError(f"{path} is not an ot_core checkpoint (no ot_core header)")
    if record.get("kind") != kind:
        raise ValueError(f"{path} holds a saved {record.get('kind')}, not a {kind}")
    if record.get("sha256") != _digest(record["payload"]):
        raise ValueError(f"{path} is damaged: its checksum does not match its contents")
    return record["payload"]
