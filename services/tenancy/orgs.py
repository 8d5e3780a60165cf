"""Which organization a signed-in user acts for. Authorisation comes from membership only, never from the host."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.models import Membership, Role, User


def home_organization(session: Session, user_id: int) -> int | None:
    """The organization a person joined first: whose brand their account e-mails carry."""
    return session.exec(
        select(col(Membership.organization_id)).where(col(Membership.user_id) == user_id).order_by(col(Membership.id))
    ).first()


def owner_user(session: Session, organization_id: int) -> User | None:
    """The organization's first member: who signed it up, and who gets its instance and billing e-mail."""
    return session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(col(Membership.organization_id) == organization_id)
        .order_by(col(Membership.id))
    ).first()


def owner_count(session: Session, organization_id: int) -> int:
    """How many owners the organization has: it never loses its last one (a tenant no one can manage)."""
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(col(Membership.organization_id) == organization_id, col(Membership.role) == Role.OWNER)
    ).one()
