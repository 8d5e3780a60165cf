"""The servers of the pool: added, drained and removed by platform staff (console and `portal-admin servers`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.capacity.fit import load
from services.models import Instance, Server
from services.models.base import key, utcnow

BACKENDS = ("docker", "coolify")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DOCKER_ADDRESS = re.compile(
    r"^(unix:///[^\s]{1,250}|tcp://[A-Za-z0-9.\-:\[\]]{1,250}|ssh://[^\s@]{1,64}@[^\s]{1,200})$"
)
_COOLIFY_UUID = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
FIRST = {"docker": "docker-1", "coolify": "coolify-1"}
MAX_CAPACITY = 10**9  # beyond any real machine, within every integer column


class ServerRefused(ValueError):
    """What staff typed cannot be a server; the message says why and nothing is changed."""


@dataclass(frozen=True)
class ServerLoad:
    id: int
    name: str
    backend: str
    address: str
    region: str
    state: str
    instances: int
    max_instances: int | None
    memory_mb: int
    memory_capacity_mb: int | None
    cpus: float
    cpu_capacity: float | None
    load_percent: int


def ensure_first_server(session: Session, backend: str) -> bool:
    """A pool never starts empty: the portal's own engine (DOCKER_HOST, COOLIFY_SERVER_UUID) is its first server,
    with the address left empty so it keeps following that setting. Migration 0015 does the same on upgrade."""
    if session.exec(select(col(Server.id)).where(col(Server.backend) == backend)).first() is not None:
        return False
    session.add(Server(name=FIRST.get(backend, f"{backend}-1"), backend=backend, address=""))
    session.flush()
    return True


def add_server(
    session: Session,
    *,
    name: str,
    backend: str,
    address: str,
    region: str = "",
    memory_mb: int | None = None,
    cpus: float | None = None,
    max_instances: int | None = None,
    publish_host: str = "127.0.0.1",
    tls_dir: str | None = None,
) -> Server:
    name, address, region = name.strip().lower(), address.strip(), region.strip().lower()
    if not _NAME.match(name):
        raise ServerRefused("A server's name is lowercase letters, digits and dashes (at most 63).")
    if backend not in BACKENDS:
        raise ServerRefused(f"Backend must be one of {', '.join(BACKENDS)}.")
    pattern = _DOCKER_ADDRESS if backend == "docker" else _COOLIFY_UUID
    if not pattern.match(address):
        raise ServerRefused(
            "A Docker server's address is unix:///path, tcp://host:port or ssh://user@host."
            if backend == "docker"
            else "A Coolify server is named by its uuid in Coolify."
        )
    if len(region) > 40 or not re.fullmatch(r"[a-z0-9\-]*", region):
        raise ServerRefused("A region is a short label of lowercase letters, digits and dashes (eu-1).")
    for label, value in (("memory", memory_mb), ("CPUs", cpus), ("maximum instances", max_instances)):
        if value is not None and not 0 < value <= MAX_CAPACITY:
            raise ServerRefused(f"The server's {label} must be a positive number.")
    if session.exec(select(col(Server.id)).where(col(Server.name) == name)).first() is not None:
        raise ServerRefused(f"A server named {name!r} already exists.")
    taken = session.exec(
        select(col(Server.name)).where(col(Server.backend) == backend, col(Server.address) == address)
    ).first()
    if taken:
        raise ServerRefused(f"That address is already the server {taken!r}.")
    server = Server(
        name=name,
        backend=backend,
        address=address,
        region=region,
        memory_mb=memory_mb,
        millicpus=int(cpus * 1000) if cpus else None,
        max_instances=max_instances,
        publish_host=publish_host.strip() or "127.0.0.1",
        tls_dir=tls_dir or None,
    )
    session.add(server)
    session.flush()
    return server


def get_server(session: Session, name: str) -> Server:
    server = session.exec(select(Server).where(col(Server.name) == name.strip().lower())).first()
    if server is None:
        raise ServerRefused(f"No server is named {name!r}.")
    return server


def drain(session: Session, name: str) -> Server:
    """No new instance goes there; services/provisioning/moves.py moves the ones it holds."""
    server = get_server(session, name)
    if server.state == "active":
        server.state = "draining"
        session.add(server)
        session.flush()
    return server


def activate(session: Session, name: str) -> Server:
    server = get_server(session, name)
    server.state, server.down_since = "active", None
    session.add(server)
    session.flush()
    return server


def remove(session: Session, name: str) -> None:
    """Only an empty server leaves the pool: instances are drained off it first, never orphaned."""
    server = get_server(session, name)
    held = placed_count(session, key(server))
    if held:
        raise ServerRefused(f"{server.name} still holds {held} instance(s): drain it first.")
    session.delete(server)
    session.flush()


def placed_count(session: Session, server_id: int) -> int:
    return int(
        session.exec(select(func.count()).select_from(Instance).where(col(Instance.server_id) == server_id)).one()
    )


def recount(session: Session) -> None:
    """Set every server's counters from the instances placed on it: a crash between a placement and its commit
    cannot happen (one transaction), but a row edited by hand can drift; the minute's watch corrects it."""
    rows = session.exec(
        select(
            col(Instance.server_id),
            func.count(),
            func.coalesce(func.sum(col(Instance.reserved_memory_mb)), 0),
            func.coalesce(func.sum(col(Instance.reserved_millicpus)), 0),
        )
        .where(col(Instance.server_id).is_not(None))
        .group_by(col(Instance.server_id))
    ).all()
    totals = {int(r[0] or 0): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    for server in session.exec(select(Server)).all():
        count, memory, cpus = totals.get(key(server), (0, 0, 0))
        if (server.allocated_instances, server.allocated_memory_mb, server.allocated_millicpus) != (
            count,
            memory,
            cpus,
        ):
            server.allocated_instances, server.allocated_memory_mb, server.allocated_millicpus = count, memory, cpus
            session.add(server)
    session.flush()


def pool(session: Session) -> list[ServerLoad]:
    servers = session.exec(select(Server).order_by(col(Server.backend), col(Server.name))).all()
    return [
        ServerLoad(
            id=key(s),
            name=s.name,
            backend=s.backend,
            address=s.address or "(the portal's own setting)",
            region=s.region,
            state=s.state,
            instances=s.allocated_instances,
            max_instances=s.max_instances,
            memory_mb=s.allocated_memory_mb,
            memory_capacity_mb=s.memory_mb,
            cpus=s.allocated_millicpus / 1000,
            cpu_capacity=s.millicpus / 1000 if s.millicpus else None,
            load_percent=round(load(s) * 100),
        )
        for s in servers
    ]


def mark_seen(session: Session, server: Server) -> bool:
    """The engine answered: back to active if it was down. True when it came back."""
    came_back = server.state == "down"
    server.last_seen_at = utcnow()
    if came_back:
        server.state, server.down_since = "active", None
    session.add(server)
    return came_back


def mark_down(session: Session, server: Server) -> bool:
    """The engine stopped answering: nothing new goes there and its instances are flagged. True when newly down."""
    if server.state == "down":
        return False
    server.state, server.down_since = "down", utcnow()
    session.add(server)
    return True
