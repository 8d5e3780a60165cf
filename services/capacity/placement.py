"""Where a new instance runs: an active server of its backend with room for what its plan reserves.

Spread (the default) puts it on the least loaded server that fits, pack on the most loaded one that still fits.
The slot is taken by one conditional UPDATE of the server's counters, so two placements racing for the last slot
cannot both win: the loser's UPDATE matches no row and it tries the next server, or parks with "no capacity".
A decision reads the servers' rows only (fifty, not ten thousand instances): bench/capacity.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col

from services.capacity.fit import Capacity, Need, fits, load
from services.capacity.servers import ensure_first_server
from services.config import get_settings
from services.errors import PermanentError
from services.models import AppTemplate, Instance, Plan, Server, Subscription
from services.models.base import table_of

STRATEGIES = ("spread", "pack")
C = TypeVar("C", bound=Capacity)


class NoCapacity(PermanentError):
    """No active server of the backend has room: parked at once (staff are alerted) rather than overcommitted."""


@dataclass(slots=True)
class SlotRow:
    """A server as placement reads it: its counters and capacity only (fifty of these per decision)."""

    id: int
    name: str
    state: str
    memory_mb: int | None
    millicpus: int | None
    max_instances: int | None
    allocated_memory_mb: int
    allocated_millicpus: int
    allocated_instances: int


def need_of(session: Session, instance: Instance) -> tuple[Need, str | None]:
    """The plan's reservation and region for this instance."""
    found = session.execute(
        sa_select(col(Plan.limits), col(Plan.region))
        .select_from(Subscription)
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(col(Subscription.id) == instance.subscription_id)
    ).first()
    limits, region = (found[0] or {}, found[1]) if found else ({}, None)
    return Need(_whole(limits.get("memory_mb")), _whole(float(limits.get("cpus") or 0) * 1000)), region or None


def _whole(value: str | float | None) -> int:
    try:
        return max(0, int(float(value or 0)))
    except (TypeError, ValueError):
        return 0


def backend_of(session: Session, instance: Instance) -> str:
    template = session.get(AppTemplate, instance.app_template_id) if instance.app_template_id else None
    return template.backend if template else instance.backend


def ranked(servers: list[C], need: Need, strategy: str = "spread") -> list[C]:
    """The servers that fit, best first."""
    fitting = [s for s in servers if s.state == "active" and fits(s, need)]
    if strategy == "pack":
        return sorted(fitting, key=lambda s: (-load(s, need), -s.allocated_instances, s.id or 0))
    return sorted(fitting, key=lambda s: (load(s, need), s.allocated_instances, s.id or 0))


_SLOT_COLUMNS = tuple(table_of(Server).c[name] for name in SlotRow.__slots__)


def candidates(session: Session, backend: str, region: str | None) -> list[SlotRow]:
    """The active servers of the backend (and region), read as they are now in the database."""
    table = table_of(Server)
    query = sa_select(*_SLOT_COLUMNS).where(table.c.backend == backend, table.c.state == "active")
    if region:
        query = query.where(table.c.region == region)
    return [SlotRow(*row) for row in session.execute(query).all()]


def take(session: Session, server: Capacity, need: Need) -> bool:
    """Reserve on this server if it still has room, in one statement: the database settles a race."""
    table = table_of(Server)
    condition = [
        table.c.id == server.id,
        table.c.state == "active",
        (table.c.memory_mb.is_(None)) | (table.c.allocated_memory_mb + need.memory_mb <= table.c.memory_mb),
        (table.c.millicpus.is_(None)) | (table.c.allocated_millicpus + need.millicpus <= table.c.millicpus),
        (table.c.max_instances.is_(None)) | (table.c.allocated_instances + 1 <= table.c.max_instances),
    ]
    result = session.connection().execute(
        update(table)
        .where(*condition)
        .values(
            allocated_memory_mb=table.c.allocated_memory_mb + need.memory_mb,
            allocated_millicpus=table.c.allocated_millicpus + need.millicpus,
            allocated_instances=table.c.allocated_instances + 1,
        )
    )
    return bool(result.rowcount == 1)


def place(session: Session, instance: Instance, *, strategy: str | None = None) -> Server:
    """The instance's server: where it already is, else a new slot on the best that fits. Raises NoCapacity."""
    if instance.server_id is not None:
        current = session.get(Server, instance.server_id)
        if current is not None:
            return current
    backend = backend_of(session, instance)
    need, region = need_of(session, instance)
    pool = candidates(session, backend, region)
    if not pool and ensure_first_server(session, backend):  # a pool never starts empty
        pool = candidates(session, backend, region)
    chosen_strategy = strategy or get_settings().placement_strategy
    for server in ranked(pool, need, chosen_strategy):
        if take(session, server, need):
            instance.server_id = server.id
            instance.reserved_memory_mb, instance.reserved_millicpus = need.memory_mb, need.millicpus
            session.add(instance)
            session.flush()
            placed = session.get(Server, server.id)
            assert placed is not None
            return placed
    where = f" in region {region!r}" if region else ""
    raise NoCapacity(
        f"No {backend} server{where} has room for this instance "
        f"({need.memory_mb} MB, {need.millicpus / 1000:g} CPU): add a server or raise a server's capacity, "
        "then retry."
    )


def give_back(session: Session, server_id: int, need: Need) -> None:
    """One instance's slot on that server is free again."""
    table = table_of(Server)
    session.connection().execute(
        update(table)
        .where(table.c.id == server_id)
        .values(
            allocated_memory_mb=table.c.allocated_memory_mb - need.memory_mb,
            allocated_millicpus=table.c.allocated_millicpus - need.millicpus,
            allocated_instances=table.c.allocated_instances - 1,
        )
    )


def release(session: Session, instance: Instance) -> None:
    """Give the instance's slot back (it was removed): counters down, the instance unplaced."""
    if instance.server_id is None:
        return
    give_back(session, instance.server_id, Need(instance.reserved_memory_mb, instance.reserved_millicpus))
    instance.server_id = None
    instance.reserved_memory_mb = instance.reserved_millicpus = 0
    session.add(instance)
    session.flush()
