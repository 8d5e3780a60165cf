"""Operator tasks behind `portal-admin` and the admin console: regenerate the proxy, clean up, stats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import Instance
from services.models.base import key
from services.provisioning.backends import get_backend
from services.provisioning.errors import ProvisioningError
from services.provisioning.proxy import get_proxy
from services.provisioning.spec import build_spec

GONE = ("deprovisioned",)


def proxy_routes(session: Session) -> list[tuple[int, str, str, str]]:
    settings = get_settings()
    rows = session.exec(
        select(Instance).where(
            col(Instance.upstream).is_not(None),
            col(Instance.status).not_in(GONE),
        )
    ).all()
    return [(key(i), i.subdomain, settings.instance_domain(i.subdomain), i.upstream or "") for i in rows]


def regenerate_proxy(session: Session) -> int:
    return get_proxy().regenerate(proxy_routes(session))


def cleanup_deprovisioned(session: Session) -> list[str]:
    """Remove backend resources and vhosts still left for deprovisioned instances (idempotent)."""
    cleaned = []
    for instance in session.exec(select(Instance).where(col(Instance.status).in_(GONE))).all():
        spec = build_spec(session, instance)
        get_backend(spec.backend).destroy(spec)
        get_proxy().unpublish(instance.subdomain)
        cleaned.append(instance.subdomain)
    return cleaned


@dataclass(frozen=True)
class InstanceStats:
    subdomain: str
    status: str
    observed: str
    cpu_percent: float | None
    memory_mb: float | None


def instance_stats(session: Session) -> list[InstanceStats]:
    result = []
    for instance in session.exec(
        select(Instance).where(col(Instance.status).not_in(GONE)).order_by(col(Instance.subdomain))
    ).all():
        try:
            spec = build_spec(session, instance)
            backend = get_backend(spec.backend)
            observed = backend.status(spec)
            stats = backend.stats(spec) if observed == "running" else {}
        except ProvisioningError as exc:
            observed, stats = f"error: {exc}", {}
        memory = stats.get("memory_bytes")
        result.append(
            InstanceStats(
                instance.subdomain,
                instance.status,
                observed,
                stats.get("cpu_percent"),
                round(memory / 1024 / 1024, 1) if memory is not None else None,
            )
        )
    return result
