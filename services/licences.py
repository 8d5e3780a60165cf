"""Reseller licences: what a reseller may sell, enforced where it matters (a new customer signing up)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from services.errors import ValidationFailed
from services.models import Licence, Organization, OrgKind
from services.models.base import utcnow

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
