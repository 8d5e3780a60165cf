"""Licences: set by platform staff only; custom domains only within what the licence authorises."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.tenancy.scope import Forbidden
from services.branding.brand import brand_for_host
from services.errors import ValidationFailed
from services.licences import add_domain, save_licence
from services.models import Domain, Licence, Organization
from tests.support.tenants import actor as _actor


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def test_platform_sets_a_licence_and_the_reseller_adds_only_the_domains_it_covers(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-a")
    save_licence(db, _actor(db, tree, "operator"), reseller.id, {  # type: ignore[arg-type]
        "tier": "growth", "features": ["custom_domain"], "max_customers": "100", "max_domains": "1",
        "authorized_domains": ["alpha.example"]})
    db.commit()
    admin = _actor(db, tree, "a-admin")
    with pytest.raises(ValidationFailed, match="does not cover"):
        add_domain(db, admin, reseller.id, "portal.other.example")  # type: ignore[arg-type]
    add_domain(db, admin, reseller.id, "Portal.Alpha.Example")  # type: ignore[arg-type]
    db.commit()
    assert brand_for_host(db, "portal.alpha.example").organization_id == reseller.id
    with pytest.raises(ValidationFailed, match="allows 1 domain"):
        add_domain(db, admin, reseller.id, "shop.alpha.example")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="host name"):
        add_domain(db, admin, reseller.id, "not a host")  # type: ignore[arg-type]


def test_resellers_cannot_grant_themselves_a_licence_or_take_another_resellers_domain(db: Session,
                                                                                      tree: dict) -> None:
    reseller_a, reseller_b = _org(db, "reseller-a"), _org(db, "reseller-b")
    with pytest.raises(Forbidden):
        save_licence(db, _actor(db, tree, "a-admin"), reseller_a.id, {"tier": "unlimited"})  # type: ignore[arg-type]
    db.rollback()
    with pytest.raises(Forbidden):
        add_domain(db, _actor(db, tree, "a-admin"), reseller_b.id, "portal.b.example")  # type: ignore[arg-type]
    db.rollback()
    add_domain(db, _actor(db, tree, "b-admin"), reseller_b.id, "portal.b.example")  # type: ignore[arg-type]
    db.commit()
    with pytest.raises(ValidationFailed, match="already in use"):
        add_domain(db, _actor(db, tree, "a-admin"), reseller_a.id, "portal.b.example")  # type: ignore[arg-type]
    db.rollback()
    assert db.exec(select(Licence)).all() == []
    assert [d.organization_id for d in db.exec(select(Domain)).all()] == [reseller_b.id]
    with pytest.raises(ValidationFailed) as bad:
        save_licence(db, _actor(db, tree, "operator"), reseller_a.id, {"tier": "", "max_customers": "-3",  # type: ignore[arg-type]
                                                                      "authorized_domains": ["bad host"]})
    assert set(bad.value.errors) == {"tier", "max_customers", "authorized_domains"}


def test_an_expired_licence_stops_signups_under_that_reseller_and_says_who_to_contact(db: Session, tree: dict) -> None:
    from datetime import timedelta

    from services.accounts import service
    from services.licences import parse_expiry
    from services.models.base import utcnow

    reseller = _org(db, "reseller-b")
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    save_licence(db, _actor(db, tree, "operator"), reseller.id, {"tier": "starter",  # type: ignore[arg-type]
                                                                "expires_at": parse_expiry(yesterday)})
    db.commit()
    with pytest.raises(ValidationFailed, match="Reseller-B cannot take new customers"):
        service.signup(db, email="late@example.com", username="latecomer", password="long enough password",
                       parent_org_id=reseller.id)
