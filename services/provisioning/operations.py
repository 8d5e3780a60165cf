"""Operator tasks behind `portal-admin` and the admin console: regenerate the proxy, clean up, stats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import Domain, Instance
from services.models.base import key
from services.provisioning.backends import get_backend
from services.provisioning.errors import ProvisioningError
from services.provisioning.proxy import Route, get_proxy
from services.provisioning.spec import build_spec

GONE = ("deprovisioned",)


def proxy_routes(session: Session, only: int | None = None) -> list[Route]:
    """Every instance the edge forwards to (or only that one), with its customer's proven domains."""
    settings = get_settings()
    instances = select(Instance).where(col(Instance.upstream).is_not(None), col(Instance.status).not_in(GONE))
    domains = select(col(Domain.instance_id), col(Domain.hostname)).where(
        col(Domain.instance_id).is_not(None), col(Domain.verified_at).is_not(None)
    )
    if only is not None:
        instances = instances.where(col(Instance.id) == only)
        domains = domains.where(col(Domain.instance_id) == only)
    rows = session.exec(instances).all()
    custom: dict[int, list[str]] = {}
    for instance_id, hostname in session.exec(domains.order_by(col(Domain.id))).all():
        custom.setdefault(int(instance_id or 0), []).append(hostname)
    return [
        Route(key(i), i.subdomain, (settings.instance_domain(i.subdomain), *custom.get(key(i), [])), i.upstream or "")
        for i in rows
    ]


def portal_hosts(session: Session) -> list[str]:
    """The sellers' proven portal domains, which the edge sends to the portal itself."""
    return list(
        session.exec(
            select(col(Domain.hostname))
            .where(col(Domain.instance_id).is_(None), col(Domain.verified_at).is_not(None))
            .order_by(col(Domain.hostname))
        ).all()
    )


def edge_summary() -> str:
    """One line on what fronts the instances and how a browser on this machine trusts it (make run, the CLI)."""
    proxy = get_proxy()
    if proxy.name == "none":
        return "no edge in front of instances (PROXY_BACKEND=none): they answer on their own published ports"
    line = f"{proxy.name} serves instances at {proxy.url_for('<name>.' + get_settings().base_domain)}"
    root = getattr(proxy, "root_certificate", lambda: None)()
    if root is not None:
        line += f"; its local CA's root is {root} (import it into your browser to trust the instances' HTTPS)"
    return line


def regenerate_proxy(session: Session) -> int:
    """The whole edge from the database's truth (`portal-admin proxy`, and every minute by the reconciler)."""
    return get_proxy().regenerate(proxy_routes(session), portal_hosts(session))


def refresh_instance_route(session: Session, instance_id: int) -> bool:
    """The instance's route again, with the domains proven or lost since; nothing when it is not published."""
    routes = proxy_routes(session, only=instance_id)
    return get_proxy().publish(routes[0]) if routes else False


def refresh_portal_hosts(session: Session) -> bool:
    return get_proxy().set_portal_hosts(portal_hosts(session))


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
