"""Claiming a domain: a customer's for their instance (dashboard), a seller's for its portal (console).

Who may: a customer's owner or admin, on their own instance, when the plan includes custom domains
(`limits.custom_domains`: how many) and every seller above holds the `custom_domains` licence feature; a seller's
owner or admin for its own organization, within its licence (services/admin/licences.py). Every claim names
the records to create; nothing is routed before DNS proves it (services/domains/checks.py). The host rules are
the tenancy's (services/tenancy/hostnames.py): never the portal's host, never under BASE_DOMAIN, never a name
someone has already proven.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from services import audit
from services.config import get_settings
from services.crypto import new_token
from services.customer.scope import own_instance
from services.db import after_commit
from services.domains import proof, queue
from services.domains.status import LABELS, needs_records
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import Domain, DomainStatus, Instance, Plan, Subscription
from services.models.base import key, utcnow
from services.provisioning.urls import host_url
from services.tenancy import hostnames
from services.tenancy.licences import has_feature
from services.tenancy.scope import Customer, authorise_customer

NOT_IN_PLAN = N_("Your plan does not include custom domains.")
FIRST_LOOK = "Create the records below at your DNS provider. We look for them every few minutes."


@dataclass(frozen=True)
class DomainView:
    """One claimed domain as its owner sees it."""

    id: int
    hostname: str
    status: str
    status_label: str
    message: str
    url: str
    records: list[dict[str, str]]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def target_for(session: Session, domain: Domain) -> str:
    """Where the domain must point: its instance's own host, or the edge's name for a seller's portal domain."""
    settings = get_settings()
    if domain.instance_id is not None:
        instance = session.get(Instance, domain.instance_id)
        return settings.instance_domain(instance.subdomain) if instance else ""
    return settings.edge_hostname or hostnames.portal_host()


def view_of(session: Session, domain: Domain) -> DomainView:
    instance = session.get(Instance, domain.instance_id) if domain.instance_id else None
    shown = needs_records(domain.status)
    return DomainView(
        id=key(domain),
        hostname=domain.hostname,
        status=domain.status,
        status_label=LABELS.get(domain.status, domain.status),
        message=domain.message,
        url=host_url(domain.hostname, instance.backend if instance else "docker")
        if domain.verified_at is not None
        else "",
        records=[
            {"type": r.type, "name": r.name, "value": r.value}
            for r in proof.records(domain.hostname, domain.token, target_for(session, domain))
        ]
        if shown
        else [],
    )


def new_claim(session: Session, organization_id: int, hostname: str, instance_id: int | None) -> Domain:
    """A claim on a host that passed the host rules: unproven, with its own token, checked right away."""
    domain = Domain(
        hostname=hostname,
        organization_id=organization_id,
        instance_id=instance_id,
        token=new_token(18),
        status=DomainStatus.WAITING_DNS,
        message=FIRST_LOOK,
        next_check_at=utcnow(),
        check_delay_seconds=get_settings().domain_check_seconds,
    )
    session.add(domain)
    session.flush()
    domain_id = key(domain)
    after_commit(session, lambda: queue.check_soon(domain_id))
    return domain


def host_problem(session: Session, raw: str, organization_id: int, *, platform_staff: bool) -> tuple[str, str | None]:
    """The tenancy's host rules, plus: the organization has not claimed it already."""
    host, problem = hostnames.domain_problem(session, raw, platform_staff=platform_staff)
    if (
        problem is None
        and session.exec(
            select(col(Domain.id)).where(col(Domain.hostname) == host, col(Domain.organization_id) == organization_id)
        ).first()
    ):
        problem = f"You have already added {host}."
    return host, problem


def _domain_allowance(session: Session, instance: Instance) -> int:
    """How many domains the instance's plan allows (0 when the plan or a seller's licence excludes them)."""
    if not has_feature(session, instance.organization_id, "custom_domains"):
        return 0
    subscription = session.get(Subscription, instance.subscription_id) if instance.subscription_id else None
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    try:
        return max(0, int((plan.limits if plan else {}).get("custom_domains", 0)))
    except (TypeError, ValueError):
        return 0


def add_instance_domain(
    session: Session, who: Customer | None, instance_id: int, hostname: str, ip: str = ""
) -> DomainView:
    instance = own_instance(session, who, instance_id, capability="manage", attempted="domain.add", ip=ip)
    assert who is not None
    allowance = _domain_allowance(session, instance)
    if allowance == 0:
        raise ValidationFailed.single("hostname", NOT_IN_PLAN)
    count = session.exec(select(func.count()).select_from(Domain).where(col(Domain.instance_id) == instance.id)).one()
    if count >= allowance:
        raise ValidationFailed.single(
            "hostname", say("Your plan allows {allowance} custom domain(s).", allowance=allowance)
        )
    host, problem = host_problem(session, hostname, instance.organization_id, platform_staff=False)
    if problem:
        raise ValidationFailed.single("hostname", problem)
    domain = new_claim(session, instance.organization_id, host, key(instance))
    audit.record(
        session,
        "domain.add",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"hostname": host},
    )
    return view_of(session, domain)


def _own_domain(session: Session, who: Customer | None, domain_id: int, attempted: str, ip: str) -> Domain:
    domain = session.get(Domain, domain_id)
    instance_id = domain.instance_id if domain is not None else None
    if instance_id is None:  # unknown, or a seller's portal domain: never a customer's to touch
        authorise_customer(
            session, who, "manage", action=attempted, target=("domain", domain_id), organization_id=None, ip=ip
        )
    own_instance(session, who, instance_id or 0, capability="manage", attempted=attempted, ip=ip)
    assert domain is not None
    return domain


def remove_instance_domain(session: Session, who: Customer | None, domain_id: int, ip: str = "") -> str:
    domain = _own_domain(session, who, domain_id, "domain.remove", ip)
    assert who is not None
    return forget(session, domain, who.audit_fields(), ip)


def forget(session: Session, domain: Domain, audit_fields: dict[str, object], ip: str) -> str:
    """Remove the claim; once committed, its route goes from the edge (the check job's edge refresh)."""
    hostname, was_routed = domain.hostname, domain.verified_at is not None
    session.delete(domain)
    audit.record(
        session,
        "domain.remove",
        **audit_fields,  # type: ignore[arg-type]
        target=("domain", domain.id),
        organization_id=domain.organization_id,
        ip=ip,
        details={"hostname": hostname},
    )
    if was_routed:
        instance_id, organization_id = domain.instance_id, domain.organization_id
        after_commit(session, lambda: queue.refresh_soon(instance_id, organization_id))
    return hostname


def check_instance_domain_now(session: Session, who: Customer | None, domain_id: int, ip: str = "") -> None:
    domain = _own_domain(session, who, domain_id, "domain.check", ip)
    schedule_now(session, domain)


def schedule_now(session: Session, domain: Domain) -> None:
    domain.next_check_at = utcnow()
    domain.check_delay_seconds = get_settings().domain_check_seconds
    if domain.status == DomainStatus.FAILED and domain.verified_at is None:
        domain.status, domain.message = DomainStatus.WAITING_DNS, "Checking again."
        domain.created_at = utcnow()  # a fresh period before giving up
    session.add(domain)
    domain_id = key(domain)
    after_commit(session, lambda: queue.check_soon(domain_id))


def instance_domains(session: Session, who: Customer | None, instance_id: int) -> dict[str, Any]:
    """The dashboard's domain section: each domain as its owner sees it, and whether the plan allows more."""
    instance = own_instance(session, who, instance_id, capability="status", attempted="domain.list")
    rows = session.exec(select(Domain).where(col(Domain.instance_id) == instance.id).order_by(col(Domain.id))).all()
    allowance = _domain_allowance(session, instance)
    return {
        "domains": [view_of(session, row).to_dict() for row in rows],
        "may_add": len(rows) < allowance,
        "allowance": allowance,
    }
