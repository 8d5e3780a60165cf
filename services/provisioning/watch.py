"""Whether the engines the portal provisions on still answer: a probe a minute, an incident when one stops.

Only what is in use is probed: the Docker engine when an app template runs on Docker (or DOCKER_HOST is set),
Coolify when COOLIFY_URL is set. A probe that fails opens a `backend_down` incident (one e-mail to the platform's
staff, however many minutes it stays down); the first probe that succeeds again resolves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.capacity.servers import ensure_first_server, mark_down, mark_seen, recount
from services.config import get_settings
from services.models import AppTemplate, Instance, Server
from services.models.base import key, table_of
from services.ops import incidents
from services.provisioning.backends.docker import DockerBackend
from services.provisioning.coolify.client import CoolifyClient
from services.provisioning.errors import ProvisioningError
from services.provisioning.spec import server_ref

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Probe:
    key: str  # the incident's key: which engine, at which address
    label: str
    check: Callable[[], None]  # raises when the engine does not answer
    server_id: int | None = None  # the pool's server it probes: marked down, its instances flagged


def _docker_in_use(session: Session) -> bool:
    if get_settings().docker_host:
        return True
    return (
        session.exec(
            select(col(AppTemplate.id)).where(
                col(AppTemplate.backend) == "docker", col(AppTemplate.archived_at).is_(None)
            )
        ).first()
        is not None
    )


def _coolify_check(url: str, token: str) -> Callable[[], None]:
    def check() -> None:
        client = CoolifyClient(url, token, timeout=PROBE_TIMEOUT_SECONDS, max_retries=0)
        try:
            if not client.healthy():
                raise ProvisioningError(f"Coolify at {url} does not answer its health check")
        finally:
            client.close()

    return check


def probes(session: Session) -> list[Probe]:
    settings = get_settings()
    found: list[Probe] = []
    if _docker_in_use(session):
        ensure_first_server(session, "docker")
        for server in session.exec(select(Server).where(col(Server.backend) == "docker").order_by(col(Server.id))):
            docker = _engine_of(session, key(server))
            found.append(
                Probe(
                    f"docker:{docker.address}",
                    f"The Docker engine {server.name} at {docker.address}",
                    docker.ping,
                    key(server),
                )
            )
    if settings.coolify_url:
        url = settings.coolify_url
        found.append(Probe(f"coolify:{url}", f"Coolify at {url}", _coolify_check(url, settings.coolify_token or "")))
    return found


def watch_backends(session: Session, found: list[Probe] | None = None) -> dict[str, bool]:
    """Probe each engine in use; open or resolve its incident. Returns which answered."""
    answered: dict[str, bool] = {}
    for probe in probes(session) if found is None else found:
        try:
            probe.check()
        except Exception as exc:  # noqa: BLE001 - whatever the client raised, the engine did not answer
            answered[probe.key] = False
            if probe.server_id is not None:
                server_down(session, probe.server_id)
            incidents.raise_incident(
                session,
                incidents.BACKEND_DOWN,
                probe.key,
                title=f"{probe.label} is not answering",
                detail=f"{type(exc).__name__}: {exc}"[:2000],
            )
        else:
            answered[probe.key] = True
            if probe.server_id is not None:
                server_up(session, probe.server_id)
            incidents.resolve_incident(session, incidents.BACKEND_DOWN, probe.key)
    if any(p.server_id is not None for p in (found or [])) or found is None:
        recount(session)
    return answered


def _remove_stale_copies(session: Session, server: Server) -> None:
    """An engine back from the dead still holds the copies of instances started elsewhere meanwhile (and restarts
    them, by their restart policy): they are removed, so nothing runs twice and no disk is held by a ghost."""
    placed_here = {
        int(i or 0) for i in session.exec(select(col(Instance.id)).where(col(Instance.server_id) == key(server))).all()
    }
    try:
        removed = _engine_of(session, key(server)).remove_strays(placed_here)
    except ProvisioningError as exc:
        log.warning("stale copies on %s not removed yet: %s", server.name, exc)
        return
    if removed:
        log.info("removed the stale copies of %d instance(s) from %s", removed, server.name)


def _engine_of(session: Session, server_id: int) -> DockerBackend:
    ref = server_ref(session, server_id)
    assert ref is not None
    return DockerBackend.of_server(ref, timeout=PROBE_TIMEOUT_SECONDS)


def server_down(session: Session, server_id: int) -> None:
    """Nothing new is placed there; customers of its instances see "host unreachable, we are on it"."""
    server = session.get(Server, server_id)
    if server is None:
        return
    mark_down(session, server)
    session.connection().execute(
        update(table_of(Instance)).where(table_of(Instance).c.server_id == server_id).values(host_unreachable=True)
    )


def server_up(session: Session, server_id: int) -> None:
    """Seen again: its instances' flag is lifted; an engine whose capacity was not declared has it learned."""
    server = session.get(Server, server_id)
    if server is None:
        return
    came_back = mark_seen(session, server)
    if came_back and server.backend == "docker":
        _remove_stale_copies(session, server)
    session.connection().execute(
        update(table_of(Instance))
        .where(table_of(Instance).c.server_id == server_id, table_of(Instance).c.host_unreachable.is_(True))
        .values(host_unreachable=False)
    )
    if server.backend == "docker" and server.memory_mb is None:
        # memory is learned: it is what an engine cannot hand out twice. CPUs are not: time on them is shared, and
        # how far to overcommit them is the business's choice, declared per server (console, CLI)
        try:
            memory = _engine_of(session, server_id).memory_mb()
        except ProvisioningError:
            return
        server.memory_mb = memory or None
        session.add(server)
