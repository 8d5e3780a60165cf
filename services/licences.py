"""Reseller licences: what a reseller may sell, enforced where it matters (a new customer signing up)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, select

from services.errors import ValidationFailed
from services.models import Domain, Licence, Organization, OrgKind
from services.models.base import utcnow

if TYPE_CHECKING:
    from services.tenancy.scope import Actor

HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")

NO_ROOM = ("{name} cannot take new customers at the moment (its plan allows {limit}). Please try again later or "
           "contact {name}.")
EXPIRED = "{name} cannot take new customers at the moment. Please contact {name}."


def active_licence(session: Session, organization_id: int) -> Licence | None:
    return session.exec(select(Licence).where(Licence.organization_id == organization_id)
                        .order_by(Licence.id.desc())).first()  # type: ignore[union-attr]


def ensure_room_for_customer(session: Session, seller_id: int) -> None:
    """A reseller over its licence's customer limit, or with an expired or suspended licence, signs up nobody.

    The platform itself has no licence and no limit. The message names the reseller, not the licence terms'
    details, since the person reading it is the would-be customer.
    """
    seller = session.get(Organization, seller_id)
    if seller is None or seller.kind == OrgKind.PLATFORM:
        return
    licence = active_licence(session, seller_id)
    if licence is None:
        return
    expires = licence.expires_at
    if licence.status != "active" or (expires is not None and expires <= utcnow()):
        raise ValidationFailed.single("", EXPIRED.format(name=seller.name))
    if licence.max_customers is not None:
        customers = session.exec(select(func.count()).select_from(Organization).where(
            Organization.parent_id == seller_id, Organization.kind == OrgKind.CUSTOMER)).one()
        if customers >= licence.max_customers:
            raise ValidationFailed.single("", NO_ROOM.format(name=seller.name, limit=licence.max_customers))


def _validate_hostname(hostname: str) -> str:
    host = hostname.strip().lower().rstrip(".")
    if not HOSTNAME.match(host):
        raise ValidationFailed.single("hostname", "must be a host name such as portal.example.com")
    return host


def save_licence(session: Session, actor: "Actor | None", organization_id: int, values: dict[str, Any], *,
                 ip: str = "") -> Licence:
    """Platform staff set a reseller's licence: tier, features, limits, expiry, authorised domains."""
    from services import audit
    from services.tenancy.scope import authorise

    checked = authorise(session, actor, "manage", action="licences.save", target=("organization", organization_id),
                        organization_id=organization_id, platform=True)
    seller = session.get(Organization, organization_id)
    if seller is None or seller.kind not in (OrgKind.RESELLER, OrgKind.SUB_RESELLER):
        raise ValidationFailed.single("", "Licences are for resellers.")
    errors: dict[str, str] = {}
    limits: dict[str, int | None] = {}
    for field in ("max_customers", "max_instances", "max_domains"):
        raw = values.get(field)
        if raw in (None, ""):
            limits[field] = None
            continue
        try:
            limits[field] = int(raw)  # type: ignore[arg-type]
            if limits[field] < 0:  # type: ignore[operator]
                raise ValueError
        except (TypeError, ValueError):
            errors[field] = "must be a whole number, 0 or more (empty: no limit)"
    domains = []
    for host in values.get("authorized_domains") or []:
        try:
            domains.append(_validate_hostname(str(host)))
        except ValidationFailed:
            errors["authorized_domains"] = f"{host!r} is not a host name"
    tier = str(values.get("tier") or "").strip()
    if not tier:
        errors["tier"] = "is required"
    if errors:
        raise ValidationFailed(errors)
    licence = active_licence(session, organization_id) or Licence(organization_id=organization_id, tier=tier)
    licence.tier, licence.features = tier, [str(f) for f in values.get("features") or []]
    licence.max_customers, licence.max_instances = limits["max_customers"], limits["max_instances"]
    licence.max_domains, licence.authorized_domains = limits["max_domains"], domains
    licence.expires_at, licence.status = values.get("expires_at"), str(values.get("status") or "active")
    session.add(licence)
    audit.record(session, "licences.save", actor_label=checked.email, target=("organization", organization_id),
                 organization_id=organization_id, ip=ip, details={"tier": tier, **limits, "domains": domains})
    return licence


def add_domain(session: Session, actor: "Actor | None", organization_id: int, hostname: str, *,
               ip: str = "") -> Domain:
    """A reseller's custom domain: one its licence authorises, within its domain count, not anyone else's."""
    from services import audit
    from services.tenancy.scope import authorise

    checked = authorise(session, actor, "manage", action="domains.add", target=("organization", organization_id),
                        organization_id=organization_id)
    host = _validate_hostname(hostname)
    licence = active_licence(session, organization_id)
    if licence is not None:
        if licence.authorized_domains and not any(host == d or host.endswith("." + d)
                                                  for d in licence.authorized_domains):
            raise ValidationFailed.single("hostname", f"Your licence does not cover {host}.")
        count = session.exec(select(func.count()).select_from(Domain)
                             .where(Domain.organization_id == organization_id)).one()
        if licence.max_domains is not None and count >= licence.max_domains:
            raise ValidationFailed.single("hostname", f"Your licence allows {licence.max_domains} domain(s).")
    if session.exec(select(Domain).where(Domain.hostname == host)).first() is not None:
        raise ValidationFailed.single("hostname", f"{host} is already in use.")
    domain = Domain(hostname=host, organization_id=organization_id)
    session.add(domain)
    audit.record(session, "domains.add", actor_label=checked.email, target=("organization", organization_id),
                 organization_id=organization_id, ip=ip, details={"hostname": host})
    return domain


def list_licences(session: Session, actor: "Actor | None") -> list[dict[str, str]]:
    """Every reseller with its licence and how much of it is used, for platform staff."""
    from services.tenancy.scope import authorise

    authorise(session, actor, "view", action="licences.list", target=("licence", "*"), platform=True)
    rows = []
    for seller in session.exec(select(Organization).where(Organization.kind.in_(  # type: ignore[attr-defined]
            (OrgKind.RESELLER, OrgKind.SUB_RESELLER))).order_by(Organization.name)).all():
        licence = active_licence(session, seller.id)  # type: ignore[arg-type]
        customers = session.exec(select(func.count()).select_from(Organization).where(
            Organization.parent_id == seller.id, Organization.kind == OrgKind.CUSTOMER)).one()
        rows.append({"id": str(seller.id), "name": seller.name, "tier": licence.tier if licence else "",
                     "customers": f"{customers} / {licence.max_customers if licence and licence.max_customers is not None else '∞'}",
                     "domains": ", ".join(licence.authorized_domains) if licence else "",
                     "expires": licence.expires_at.strftime("%Y-%m-%d") if licence and licence.expires_at else ""})
    return rows


def domains_of(session: Session, organization_id: int) -> list[str]:
    return list(session.exec(select(Domain.hostname).where(Domain.organization_id == organization_id)
                             .order_by(Domain.hostname)).all())


def parse_expiry(text: str) -> datetime | None:
    """A licence's last day as typed in the console ("" for none): it ends at the end of that day, UTC."""
    text = text.strip()
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.utc)
