"""What every training loop of the library shares: devices and random streams, learning-rate
schedules, optimizer steps, and the training log.

The log keeps each step's numbers on the device and reads them to the host once every
``log_every`` steps (one synchronisation per window, not several per step). At each read it
checks them: a non-finite number, or one that has run away by orders of magnitude against the
scale of the problem, stops training with a :class:`DivergenceError` that names the step."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import torch

from ._checks import as_matrix


class DivergenceError(FloatingPointError):
    """Training produced a non-finite or runaway loss; the message names the step."""


DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def resolve_device(device) -> torch.device:
    """``None``: CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be None, 'cpu', 'cuda', 'cuda:N', ... or a torch.device, got {device!r}") from exc
    if device.type not in DEVICE_TYPES:
        raise ValueError(f"device must be one of the types {', '.join(DEVICE_TYPES)} (training computes on it), "
                         f"got {device!r}")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def check_seed(seed) -> int:
    """A seed is an integer (not a bool) that torch can take: in [-2⁶³, 2⁶⁴)."""
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not -2**63 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [-2**63, 2**64), got {seed!r}")
    return int(seed)


def generator(seed: int, device: torch.device) -> torch.Generator:
    """A random stream of its own on ``device``: training never touches a global stream."""
    return torch.Generator(device=device).manual_seed(check_seed(seed))


def progress_bar(progress, steps: int, desc: str):
    """A tqdm bar unless ``progress`` is False, or None under CI."""
    if progress is None:
        progress = os.environ.get("CI", "").lower() not in ("1", "true", "yes")
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=desc, leave=False)


def gauss_legendre(n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss–Legendre nodes on [0, 1] as a (n, 1, 1) tensor and weights (n,) summing to 1."""
    nodes, weights = np.polynomial.legendre.leggauss(n)
    t = torch.tensor((nodes + 1) / 2, dtype=torch.float32, device=device).view(-1, 1, 1)
    return t, torch.tensor(weights / 2, dtype=torch.float32, device=device)


def time_nodes(n_times: int, sampling: str, batch: int, generator, device):
    """Times (K, 1, 1) or (K, batch, 1) and quadrature weights (K,) summing to 1 on [0, 1]:
    Gauss–Legendre nodes, or one uniform draw in each of K equal slices of [0, 1]."""
    if sampling == "gauss-legendre":
        return gauss_legendre(n_times, device)
    u = torch.rand(n_times, batch, 1, generator=generator, device=device)
    t = (torch.arange(n_times, device=device).view(-1, 1, 1) + u) / n_times
    return t, torch.full((n_times,), 1.0 / n_times, device=device)


def cosine(step: int, steps: int, final: float) -> float:
    """Cosine decay from 1 at step 0 to ``final`` at ``steps``."""
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1)))


def scale_lr(optimizer, factor: float) -> None:
    """Set each parameter group's learning rate to ``factor`` times its value at the start."""
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = group["initial_lr"] * factor


def descend(optimizer, loss: torch.Tensor, clip: float | None = None) -> None:
    """One optimizer step on ``loss`` (no host synchronisation; the log checks the loss)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, clip)
    optimizer.step()


def set_trainable(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def checked_sampler(dist, name: str, generator, device, seed: int = 0):
    """``draw(n)``: n samples of ``dist`` on ``device``. The first batch is checked in full
    (shape, dtype, finite values); later ones only by shape, which needs no host read.

    The library's distributions draw with ``generator`` on its device. A distribution of the
    user's that cannot use a generator on that device (it draws on the CPU) gets a CPU
    generator of its own, seeded with ``seed``, and its samples are moved."""
    state = {"checked": False, "generator": generator}

    def draw(n: int) -> torch.Tensor:
        if not state["checked"] and generator is not None and generator.device.type != "cpu":
            try:
                x = dist.sample(n, generator=generator)
            except RuntimeError:
                state["generator"] = torch.Generator().manual_seed(seed % 2**63)
                x = dist.sample(n, generator=state["generator"])
        else:
            x = dist.sample(n, generator=state["generator"])
        if not state["checked"]:
            x = as_matrix(x, f"samples of {name}", dim=dist.dim)
            state["checked"] = True
        elif not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != dist.dim:
            x = as_matrix(x, f"samples of {name}", dim=dist.dim)
        if x.shape[0] != n:
            raise ValueError(f"{name}.sample({n}) returned {x.shape[0]} rows")
        return x.to(device=device, dtype=torch.float32, non_blocking=True)

    return draw


class TrainingLog:
    """Per-step numbers kept on the device, read in windows of ``every`` steps.

    ``log(step, **values)`` stores 0-d tensors; every ``every`` steps (and at ``flush()``)
    they are read with one transfer, appended to ``history`` as floats with the wall-clock
    (measured at each read, interpolated between reads), checked, and the progress bar
    advances. ``limits`` maps a quantity to the largest magnitude it may reach: beyond it the
    run has run away. ``hint`` ends every divergence message."""

    def __init__(self, history: dict, every: int, bar=None, hint: str = "", limits: dict | None = None):
        self.history, self.every, self.bar, self.hint = history, every, bar, hint
        self.limits = limits or {}
        self.start = time.perf_counter()
        self.offset = history["seconds"][-1] if history.get("seconds") else 0.0
        self._steps, self._values = [], []

    def log(self, step: int, **values: torch.Tensor) -> None:
        self._steps.append(step)
        self._values.append(torch.stack([v.detach().float().reshape(()) for v in values.values()]))
        self._names = list(values)
        if len(self._steps) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self._steps:
            return
        rows = torch.stack(self._values).cpu().tolist()          # the one host read of the window
        now = self.offset + time.perf_counter() - self.start
        last = self.history["seconds"][-1] if self.history["seconds"] else self.offset
        steps, self._steps, self._values = self._steps, [], []
        for i, (step, row) in enumerate(zip(steps, rows)):
            for name, value in zip(self._names, row):
                self._check(name, value, step)
            self.history["step"].append(step)
            for name, value in zip(self._names, row):
                self.history[name].append(value)
            self.history["seconds"].append(last + (now - last) * (i + 1) / len(steps))
        if self.bar is not None:
            self.bar.update(len(steps))
            self.bar.set_postfix({k: f"{self.history[k][-1]:.4g}" for k in self._names})

    def _check(self, name: str, value: float, step: int) -> None:
        what = name.replace("_", " ")
        if not math.isfinite(value):
            raise DivergenceError(f"the {what} became {value} at step {step}: training diverged. {self.hint}")
        limit = self.limits.get(name)
        if limit is not None and abs(value) > limit:
            raise DivergenceError(
                f"the {what} reached {value:.4g} at step {step}, beyond {limit:.3g} (a thousand times the "
                f"straight-line action of independent pairs): training ran away. Likely causes: learning rates "
                f"too large, or a Lagrangian whose action is unbounded below. {self.hint}")
