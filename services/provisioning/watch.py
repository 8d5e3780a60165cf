"""Whether the engines the portal provisions on still answer: a probe a minute, an incident when one stops.

Only what is in use is probed: the Docker engine when an app template runs on Docker (or DOCKER_HOST is set),
Coolify when COOLIFY_URL is set. A probe that fails opens a `backend_down` incident (one e-mail to the platform's
staff, however many minutes it stays down); the first probe that succeeds again resolves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import AppTemplate
from services.ops import incidents
from services.provisioning.backends.docker import DockerBackend
from services.provisioning.coolify.client import CoolifyClient
from services.provisioning.errors import ProvisioningError

PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Probe:
    key: str  # the incident's key: which engine, at which address
    label: str
    check: Callable[[], None]  # raises when the engine does not answer


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
        docker = DockerBackend(timeout=PROBE_TIMEOUT_SECONDS)
        found.append(Probe(f"docker:{docker.address}", f"The Docker engine at {docker.address}", docker.ping))
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
            incidents.raise_incident(
                session,
                incidents.BACKEND_DOWN,
                probe.key,
                title=f"{probe.label} is not answering",
                detail=f"{type(exc).__name__}: {exc}"[:2000],
            )
        else:
            answered[probe.key] = True
            incidents.resolve_incident(session, incidents.BACKEND_DOWN, probe.key)
    return answered
