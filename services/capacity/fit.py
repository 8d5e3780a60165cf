"""Whether an instance fits on a server, and how full a server is: the arithmetic placement and the console share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Capacity(Protocol):
    """What placement reads of a server: a Server row, or the light row placement loads (placement.SlotRow)."""

    @property
    def id(self) -> int | None: ...
    @property
    def state(self) -> str: ...
    @property
    def memory_mb(self) -> int | None: ...
    @property
    def millicpus(self) -> int | None: ...
    @property
    def max_instances(self) -> int | None: ...
    @property
    def allocated_memory_mb(self) -> int: ...
    @property
    def allocated_millicpus(self) -> int: ...
    @property
    def allocated_instances(self) -> int: ...


@dataclass(frozen=True)
class Need:
    """What an instance reserves on its server, from its plan's limits (none declared: it counts as one)."""

    memory_mb: int = 0
    millicpus: int = 0


def fits(server: Capacity, need: Need) -> bool:
    return (
        (server.memory_mb is None or server.allocated_memory_mb + need.memory_mb <= server.memory_mb)
        and (server.millicpus is None or server.allocated_millicpus + need.millicpus <= server.millicpus)
        and (server.max_instances is None or server.allocated_instances + 1 <= server.max_instances)
    )


def load(server: Capacity, need: Need | None = None) -> float:
    """The fullest declared dimension (0..1), after placing `need` when given; 0 when nothing is declared."""
    extra = need or Need()
    shares = [0.0]
    for capacity, used in (
        (server.memory_mb, server.allocated_memory_mb + extra.memory_mb),
        (server.millicpus, server.allocated_millicpus + extra.millicpus),
        (server.max_instances, server.allocated_instances + (1 if need else 0)),
    ):
        if capacity:
            shares.append(used / capacity)
    return max(shares)
