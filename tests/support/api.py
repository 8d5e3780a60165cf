"""The platform API in tests: tokens made the way the console makes them, and a client on the real routes."""

from __future__ import annotations

from sqlmodel import Session, select

from services.api.tokens import SCOPES, issue_api_token
from services.models import Licence, Organization, Plan, User
from services.tenancy.licences import FEATURES


def licensed(db: Session, *slugs: str) -> None:
    """The resellers' licences include API access (and every other feature)."""
    for slug in slugs:
        org = db.exec(select(Organization).where(Organization.slug == slug)).one()
        db.add(Licence(organization_id=org.id, tier="pro", features=list(FEATURES)))  # type: ignore[arg-type]
    db.commit()


def token_for(db: Session, username: str, org_slug: str, scopes: tuple[str, ...] | None = None) -> str:
    user = db.exec(select(User).where(User.username == username)).one()
    org = db.exec(select(Organization).where(Organization.slug == org_slug)).one()
    issued = issue_api_token(db, user.id, org.id, f"{username} test", list(scopes or SCOPES))  # type: ignore[arg-type]
    db.commit()
    return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def offered_plans(db: Session, seller_slug: str) -> tuple[Plan, Plan]:
    """A free and a paid public plan of the seller (the paid one sold through the test-mode checkout)."""
    seller = db.exec(select(Organization).where(Organization.slug == seller_slug)).one()
    free = Plan(organization_id=seller.id, name="Free", slug=f"{seller_slug}-free", price_cents=0)  # type: ignore[arg-type]
    paid = Plan(
        organization_id=seller.id,  # type: ignore[arg-type]
        name="Paid",
        slug=f"{seller_slug}-paid",
        price_cents=1500,
        stripe_price_id=f"price_{seller_slug}",
        budget_included_micros=5_000_000,
    )
    db.add_all([free, paid])
    db.commit()
    return free, paid
