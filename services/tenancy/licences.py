"""What a reseller's licence allows, enforced where it matters: new customers, new instances, premium features.

A licence belongs to a reseller or sub-reseller. Every licence up a seller's chain applies (a sub-reseller's
customers count toward its parent's limits too). Premium features (FEATURES) are on only when the chain holds
at least one licence and every licence in it names the feature; a seller without any licence sells the basic
product. An expired licence keeps working for its grace days (the console shows a banner), then stops new
signups and new instances; a suspended licence stops them at once. The platform itself has no licence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.errors import ValidationFailed
from services.i18n.message import say
from services.models import Instance, Licence, Organization, OrgKind
from services.models.base import key, utcnow
from services.tenancy.scope import subtree_ids

FEATURES = ("custom_domains", "custom_css", "hide_platform_branding", "api_access")
SELLER_KINDS = (OrgKind.RESELLER, OrgKind.SUB_RESELLER)
NO_ROOM = (
    "{name} cannot take new customers at the moment (its plan allows {limit}). Please try again later or "
    "contact {name}."
)
NO_INSTANCE_ROOM = "{name} cannot start new instances at the moment. Please try again later or contact {name}."
EXPIRED = "{name} cannot take new customers at the moment. Please contact {name}."
MAX_DEPTH = 8


def active_licence(session: Session, organization_id: int) -> Licence | None:
    return session.exec(
        select(Licence).where(col(Licence.organization_id) == organization_id).order_by(col(Licence.id).desc())
    ).first()


def state(licence: Licence, now: datetime | None = None) -> str:
    """active | grace (expired, within its grace days) | expired | suspended."""
    now = now or utcnow()
    if licence.status != "active":
        return "suspended"
    if licence.expires_at is None or licence.expires_at > now:
        return "active"
    return "grace" if now < licence.expires_at + timedelta(days=licence.grace_days) else "expired"


def sellers_above(session: Session, organization_id: int | None) -> list[Organization]:
    """The organization (when it sells) and every reseller above it, nearest first; never the platform."""
    chain: list[Organization] = []
    current = session.get(Organization, organization_id) if organization_id else None
    while current is not None and len(chain) < MAX_DEPTH:
        if current.kind in SELLER_KINDS:
            chain.append(current)
        current = session.get(Organization, current.parent_id) if current.parent_id else None
    return chain


def _licensed(session: Session, organization_id: int | None) -> list[tuple[Organization, Licence]]:
    return [
        (org, licence)
        for org in sellers_above(session, organization_id)
        if (licence := active_licence(session, key(org))) is not None
    ]


def has_feature(session: Session, organization_id: int | None, feature: str) -> bool:
    """May this organization (a seller, or a customer through its sellers) use a premium feature?"""
    if feature not in FEATURES:
        raise ValueError(f"unknown licence feature {feature!r}")
    sellers = sellers_above(session, organization_id)
    if not sellers:
        return True  # the platform and its own customers
    licences = [licence for org in sellers if (licence := active_licence(session, key(org))) is not None]
    return bool(licences) and all(
        feature in (licence.features or []) and state(licence) != "suspended" for licence in licences
    )


def require_feature(session: Session, organization_id: int | None, feature: str, field: str) -> None:
    if not has_feature(session, organization_id, feature):
        raise ValidationFailed.single(
            field, say("Your licence does not include {feature}.", feature=feature.replace("_", " "))
        )


def _customers_below(session: Session, seller_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Organization)
            .where(
                col(Organization.kind) == OrgKind.CUSTOMER, col(Organization.id).in_(subtree_ids(session, seller_id))
            )
        ).one()
    )


def _instances_below(session: Session, seller_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Instance)
            .where(
                col(Instance.status) != "deprovisioned",
                col(Instance.organization_id).in_(subtree_ids(session, seller_id)),
            )
        ).one()
    )


def ensure_room_for_customer(session: Session, seller_id: int) -> None:
    """A new customer under `seller_id`: refused (naming the seller, not the terms) when any licence above
    is expired beyond its grace, suspended, or at its customer limit counted over its whole subtree."""
    for seller, licence in _licensed(session, seller_id):
        if state(licence) in ("expired", "suspended"):
            raise ValidationFailed.single("", EXPIRED.format(name=seller.name))
        if licence.max_customers is not None and _customers_below(session, key(seller)) >= licence.max_customers:
            raise ValidationFailed.single("", NO_ROOM.format(name=seller.name, limit=licence.max_customers))


def ensure_room_for_instance(session: Session, customer_org_id: int) -> None:
    """A new instance for a customer: the same, against each licence's instance limit."""
    for seller, licence in _licensed(session, customer_org_id):
        if state(licence) in ("expired", "suspended"):
            raise ValidationFailed.single("", EXPIRED.format(name=seller.name))
        if licence.max_instances is not None and _instances_below(session, key(seller)) >= licence.max_instances:
            raise ValidationFailed.single("", NO_INSTANCE_ROOM.format(name=seller.name))


def console_banner(session: Session, organization_id: int) -> str:
    """What the console tells a reseller's staff about their licence ("" when there is nothing to say)."""
    for seller, licence in _licensed(session, organization_id):
        current, expires = state(licence), licence.expires_at
        ours = seller.id == organization_id
        whose = "Your licence" if ours else f"The licence of {seller.name}"
        if current == "suspended":
            return f"{whose} is suspended: new customers and new instances are stopped."
        if current == "expired" and expires is not None:
            return (
                f"{whose} expired on {expires:%d %b %Y}: new customers and new instances are stopped. "
                "Existing customers keep running."
            )
        if current == "grace" and expires is not None:
            stop = expires + timedelta(days=licence.grace_days)
            return (
                f"{whose} expired on {expires:%d %b %Y}. New customers and new instances stop on "
                f"{stop:%d %b %Y} unless it is renewed."
            )
        if current == "active" and expires is not None and expires - utcnow() < timedelta(days=14):
            return f"{whose} expires on {expires:%d %b %Y}."
    return ""
