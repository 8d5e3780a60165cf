"""Licences and sellers' portal domains from the console (the rules themselves: services/tenancy/licences.py).

Platform staff set a reseller's licence: tier, features, limits, expiry with grace days, authorised domains.
Sellers add their own portal domains within it; the host-name rules of services/tenancy/hostnames.py hold for
every seller, with or without a licence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from services import audit
from services.errors import ValidationFailed
from services.models import Domain, Licence, Organization, OrgKind
from services.tenancy import hostnames
from services.tenancy.licences import FEATURES, SELLER_KINDS, active_licence, require_feature, state
from services.tenancy.scope import Actor, authorise, subtree_ids

MAX_GRACE_DAYS = 365


def _whole_number(raw: Any, field: str, errors: dict[str, str], *, upper: int = 10_000_000) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[field] = "must be a whole number, 0 or more (empty: no limit)"
        return None
    if not 0 <= value <= upper:
        errors[field] = f"must be between 0 and {upper:,}"
        return None
    return value


def save_licence(
    session: Session, actor: Actor | None, organization_id: int, values: dict[str, Any], *, ip: str = ""
) -> Licence:
    """Platform staff set a reseller's licence: tier, features, limits, expiry and grace, authorised domains."""
    checked = authorise(
        session,
        actor,
        "manage",
        action="licences.save",
        target=("organization", organization_id),
        organization_id=organization_id,
        platform=True,
    )
    seller = session.get(Organization, organization_id)
    if seller is None or seller.kind not in SELLER_KINDS:
        raise ValidationFailed.single("", "Licences are for resellers.")
    errors: dict[str, str] = {}
    limits = {
        field: _whole_number(values.get(field), field, errors)
        for field in ("max_customers", "max_instances", "max_domains")
    }
    grace = _whole_number(values.get("grace_days", 14), "grace_days", errors, upper=MAX_GRACE_DAYS)
    domains = []
    for host in values.get("authorized_domains") or []:
        clean = hostnames.normalise_host(str(host))
        if not hostnames.HOSTNAME.match(clean):
            errors["authorized_domains"] = f"{host!r} is not a host name"
        domains.append(clean)
    features = [str(f).strip() for f in values.get("features") or [] if str(f).strip()]
    if unknown := sorted(set(features) - set(FEATURES)):
        errors["features"] = f"unknown: {', '.join(unknown)} (known: {', '.join(FEATURES)})"
    tier = str(values.get("tier") or "").strip()
    if not 1 <= len(tier) <= 40:
        errors["tier"] = "is required (at most 40 characters)"
    status = str(values.get("status") or "active")
    if status not in ("active", "suspended"):
        errors["status"] = "must be active or suspended"
    if errors:
        raise ValidationFailed(errors)
    licence = active_licence(session, organization_id) or Licence(organization_id=organization_id, tier=tier)
    licence.tier, licence.features = tier, features
    licence.max_customers, licence.max_instances = limits["max_customers"], limits["max_instances"]
    licence.max_domains, licence.authorized_domains = limits["max_domains"], domains
    licence.expires_at, licence.status = values.get("expires_at"), status
    licence.grace_days = 14 if grace is None else grace
    session.add(licence)
    audit.record(
        session,
        "licences.save",
        **checked.audit_fields(),
        target=("organization", organization_id),
        organization_id=organization_id,
        ip=ip,
        details={"tier": tier, **limits, "domains": domains, "features": features, "grace_days": licence.grace_days},
    )
    return licence


def add_domain(session: Session, actor: Actor | None, organization_id: int, hostname: str, *, ip: str = "") -> Domain:
    """A seller's own portal domain: never the portal's host, the instances' domain, an instance or another's."""
    org = session.get(Organization, organization_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="domains.add",
        target=("organization", organization_id),
        organization_id=organization_id if org and org.kind != OrgKind.CUSTOMER else -1,
    )
    assert org is not None
    host, problem = hostnames.domain_problem(session, hostname, platform_staff=checked.is_platform)
    if problem:
        raise ValidationFailed.single("hostname", problem)
    if not checked.is_platform:  # platform staff grant domains outside any licence; sellers stay within theirs
        require_feature(session, organization_id, "custom_domains", "hostname")
        licence = active_licence(session, organization_id)
        if (
            licence is not None
            and licence.authorized_domains
            and not any(host == d or host.endswith("." + d) for d in licence.authorized_domains)
        ):
            raise ValidationFailed.single("hostname", f"Your licence does not cover {host}.")
        count = session.exec(
            select(func.count()).select_from(Domain).where(Domain.organization_id == organization_id)
        ).one()
        if licence is not None and licence.max_domains is not None and count >= licence.max_domains:
            raise ValidationFailed.single("hostname", f"Your licence allows {licence.max_domains} domain(s).")
    domain = Domain(hostname=host, organization_id=organization_id)
    session.add(domain)
    audit.record(
        session,
        "domains.add",
        **checked.audit_fields(),
        target=("organization", organization_id),
        organization_id=organization_id,
        ip=ip,
        details={"hostname": host},
    )
    return domain


def list_licences(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """Every reseller with its licence and how much of it is used (its whole subtree), for platform staff."""
    authorise(session, actor, "view", action="licences.list", target=("licence", "*"), platform=True)
    rows = []
    for seller in session.exec(
        select(Organization)
        .where(Organization.kind.in_(SELLER_KINDS))
        .order_by(Organization.name)
    ).all():
        licence = active_licence(session, seller.id)
        customers = session.exec(
            select(func.count())
            .select_from(Organization)
            .where(Organization.kind == OrgKind.CUSTOMER, Organization.id.in_(subtree_ids(session, seller.id)))
        ).one()
        limit = licence.max_customers if licence and licence.max_customers is not None else "∞"
        rows.append(
            {
                "id": str(seller.id),
                "name": seller.name,
                "tier": licence.tier if licence else "",
                "customers": f"{customers} / {limit}",
                "features": ", ".join(licence.features or []) if licence else "",
                "domains": ", ".join(licence.authorized_domains) if licence else "",
                "expires": licence.expires_at.strftime("%Y-%m-%d") if licence and licence.expires_at else "",
                "state": state(licence) if licence else "no licence",
            }
        )
    return rows


def domains_of(session: Session, organization_id: int) -> list[str]:
    return list(
        session.exec(
            select(Domain.hostname).where(Domain.organization_id == organization_id).order_by(Domain.hostname)
        ).all()
    )


def parse_expiry(text: str) -> datetime | None:
    """A licence's last day as typed in the console ("" for none): it ends at the end of that day, UTC."""
    text = text.strip()
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
