"""What the library expects of the objects it is given, written down as ``Protocol``s.

Nothing needs to inherit from these: any object with the methods below works (duck typing);
``isinstance(obj, Sampler)`` checks the methods' presence."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Sampler(Protocol):
    """A distribution: ``dim`` and ``sample(n, generator=None) -> (n, dim)`` float tensor.

    The library's own draw on ``generator.device``; others may draw on the CPU (the training
    loops then give them a CPU generator and move the samples)."""

    dim: int

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


@runtime_checkable
class LagrangianFn(Protocol):
    """A cost L(x, v, t): x, v of shape (n, d), t of shape (n, 1) -> (n,) floating tensor."""

    def __call__(self, x: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class PathModel(Protocol):
    """Paths from x at time 0 (a learned Geodesic, an exact answer, a baseline); what
    ``metrics.path_error`` and the plotting functions use."""

    def map(self, x: torch.Tensor) -> torch.Tensor: ...

    def path(self, x: torch.Tensor, t) -> torch.Tensor: ...


@runtime_checkable
class VectorField(Protocol):
    """A velocity field v(z, t): z (n, d), t (n, 1) -> (n, d); what ``integrate`` solves."""

    def __call__(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class PathNetwork(Protocol):
    """A trainable path network for ``fit_geodesic(path_net=...)``, like ``nets.PathNet``:
    an ``nn.Module`` with ``dim``, ``map`` and ``position_and_velocity`` (times (K, n, 1) or
    (K, 1, 1) give (K, n, d) results); ``trajectory(x, t)`` -> (positions, velocities, T(x, 1))
    is used when present, to evaluate the map once per step."""

    dim: int

    def map(self, x: torch.Tensor) -> torch.Tensor: ...

    def position_and_velocity(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...
