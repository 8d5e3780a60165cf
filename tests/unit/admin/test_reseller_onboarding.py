"""Reseller onboarding: the platform creates a reseller (licence, starting brand, owner invited), a reseller
creates sub-resellers only within its own licence, and the new owner's console lists what to set up next."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts.invitations import accept_new_account
from services.accounts.sessions import create_session
from services.admin import resellers
from services.errors import ValidationFailed
from services.models import Branding, Invitation, Licence, Organization, OrgKind, Plan, Role
from services.tenancy.scope import Forbidden, resolve_actor
from tests.support.accounts import GOOD_PASSWORD, last_link, token_of
from tests.support.factories import staff_member
from tests.support.tenants import actor as _actor

NEW = {
    "name": "Gamma Hosting",
    "slug": "gamma",
    "owner_email": "owner@gamma.example",
    "platform_name": "Gamma Cloud",
    "tier": "pro",
    "features": "custom_domains, api_access",
    "max_customers": "100",
}


def test_the_platform_creates_a_reseller_whose_owner_joins_and_sees_what_to_set_up(
    db: Session, tree: dict, outbox: Path
) -> None:
    operator = _actor(db, tree, "operator")
    org = resellers.create_seller(db, operator, NEW)
    db.commit()
    assert (org.kind, org.slug) == (OrgKind.RESELLER, "gamma")
    licence = db.exec(select(Licence).where(Licence.organization_id == org.id)).one()
    assert (licence.tier, sorted(licence.features), licence.max_customers) == (
        "pro",
        ["api_access", "custom_domains"],
        100,
    )
    brand = db.exec(select(Branding).where(Branding.organization_id == org.id)).one()
    assert brand.platform_name == "Gamma Cloud"
    assert [s["slug"] for s in resellers.sellers_below(db, operator)][-1] == "gamma"
    owner = accept_new_account(db, token_of(last_link(outbox, "invit")), GOOD_PASSWORD)
    db.commit()
    create_session(db, owner.id)  # type: ignore[arg-type]
    gamma_owner = resolve_actor(db, owner.id, owner.email)  # type: ignore[arg-type]
    assert gamma_owner is not None and gamma_owner.organization_id == org.id and gamma_owner.role == "owner"
    steps = {s["name"]: s["done"] for s in resellers.setup_steps(db, gamma_owner)}
    assert steps == {"brand": "", "domain": "", "plans": "", "payouts": ""}
    db.add(Plan(organization_id=org.id, name="Gamma Basic", slug="gamma-basic"))  # type: ignore[arg-type]
    db.commit()
    assert {s["name"]: s["done"] for s in resellers.setup_steps(db, gamma_owner)}["plans"] == "yes"
    assert resellers.setup_steps(db, operator) == []  # the platform has nothing to set up


def test_a_reseller_creates_sub_resellers_only_within_its_own_licence(db: Session, tree: dict) -> None:
    reseller_a = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    db.add(Licence(organization_id=reseller_a.id, tier="std", features=["custom_domains"], max_customers=50))  # type: ignore[arg-type]
    db.commit()
    admin = _actor(db, tree, "a-admin")
    with pytest.raises(ValidationFailed) as caught:
        resellers.create_seller(db, admin, {**NEW, "slug": "too-much"})
    assert set(caught.value.errors) == {"features", "max_customers"}  # api_access and 100 exceed its own
    db.rollback()
    sub = resellers.create_seller(
        db,
        admin,
        {"name": "Sub", "slug": "sub-two", "owner_email": "o@sub.example", "tier": "s", "max_customers": "10"},
    )
    db.commit()
    assert sub.kind == OrgKind.SUB_RESELLER and sub.parent_id == reseller_a.id
    inherited = resellers.create_seller(
        db, admin, {"name": "Sub 3", "slug": "sub-three", "owner_email": "o3@x.example"}
    )
    db.commit()
    licence = db.exec(select(Licence).where(Licence.organization_id == inherited.id)).one()
    assert (licence.features, licence.max_customers) == (["custom_domains"], 50)  # at most what A holds


def test_who_may_not_create_sellers_is_refused_and_names_are_checked(db: Session, tree: dict) -> None:
    before = len(db.exec(select(Organization)).all())
    with pytest.raises(Forbidden):
        resellers.create_seller(db, _actor(db, tree, "a-support"), {**NEW, "slug": "nope"})
    db.rollback()
    with pytest.raises(ValidationFailed, match="already taken"):
        resellers.create_seller(db, _actor(db, tree, "operator"), {**NEW, "slug": "cust-a"})  # a customer's name
    db.rollback()
    with pytest.raises(ValidationFailed) as caught:
        resellers.create_seller(db, _actor(db, tree, "operator"), {**NEW, "tier": ""})
    assert "tier" in caught.value.errors  # the platform always gives a licence
    db.rollback()
    sub_owner_org = tree["sub_a"]
    sub_staff = staff_member(db, "sub-owner", sub_owner_org, Role.OWNER)
    db.commit()
    with pytest.raises(ValidationFailed, match="Only the platform and resellers"):
        resellers.create_seller(db, resolve_actor(db, sub_staff.id, sub_staff.email), {**NEW, "slug": "deeper"})  # type: ignore[arg-type]
    db.rollback()
    assert len(db.exec(select(Organization)).all()) == before  # nothing was created
    assert db.exec(select(Invitation).where(Invitation.email == "owner@gamma.example")).all() == []
