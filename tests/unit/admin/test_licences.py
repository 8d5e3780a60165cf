"""Licences mean what they say (features, limits over the whole subtree, expiry with grace), and host names
belong to exactly one party whether or not a seller has a licence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from services.accounts import service
from services.accounts.usernames import username_problem
from services.admin import branding
from services.admin.domains import add_domain
from services.admin.licences import parse_expiry, save_licence
from services.billing.enrolment import enrol
from services.branding.brand import brand_for, brand_for_host
from services.errors import ValidationFailed
from services.models import Domain, Licence, Organization, Plan
from services.models.base import utcnow
from services.tenancy.licences import FEATURES, console_banner
from services.tenancy.scope import Forbidden
from tests.support.domains import prove
from tests.support.tenants import actor as _actor


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def _licence(db: Session, tree: dict, slug: str, **values: object) -> None:
    save_licence(
        db,
        _actor(db, tree, "operator"),
        _org(db, slug).id,  # type: ignore[arg-type]
        {"tier": "growth", "features": list(FEATURES), **values},
    )
    db.commit()


def test_platform_sets_a_licence_and_the_reseller_adds_only_the_domains_it_covers(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-a")
    _licence(
        db,
        tree,
        "reseller-a",
        features=["custom_domains"],
        max_customers="100",
        max_domains="1",
        authorized_domains=["alpha.example"],
    )
    admin = _actor(db, tree, "a-admin")
    with pytest.raises(ValidationFailed, match="does not cover"):
        add_domain(db, admin, reseller.id, "portal.other.example")  # type: ignore[arg-type]
    add_domain(db, admin, reseller.id, "Portal.Alpha.Example")  # type: ignore[arg-type]
    db.commit()
    assert brand_for_host(db, "portal.alpha.example").organization_id != reseller.id  # not before DNS proves it
    prove(db, "portal.alpha.example")
    assert brand_for_host(db, "portal.alpha.example").organization_id == reseller.id
    with pytest.raises(ValidationFailed, match="allows 1 domain"):
        add_domain(db, admin, reseller.id, "shop.alpha.example")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="host name"):
        add_domain(db, admin, reseller.id, "not a host")  # type: ignore[arg-type]


def test_resellers_cannot_grant_themselves_a_licence_or_take_another_resellers_domain(db: Session, tree: dict) -> None:
    reseller_a, reseller_b = _org(db, "reseller-a"), _org(db, "reseller-b")
    with pytest.raises(Forbidden):
        save_licence(db, _actor(db, tree, "a-admin"), reseller_a.id, {"tier": "unlimited"})  # type: ignore[arg-type]
    db.rollback()
    with pytest.raises(Forbidden):
        add_domain(db, _actor(db, tree, "a-admin"), reseller_b.id, "portal.b.example")  # type: ignore[arg-type]
    db.rollback()
    _licence(db, tree, "reseller-a")
    _licence(db, tree, "reseller-b")
    add_domain(db, _actor(db, tree, "b-admin"), reseller_b.id, "portal.b.example")  # type: ignore[arg-type]
    db.commit()
    prove(db, "portal.b.example")
    with pytest.raises(ValidationFailed, match="already in use"):
        add_domain(db, _actor(db, tree, "a-admin"), reseller_a.id, "portal.b.example")  # type: ignore[arg-type]
    db.rollback()
    assert [d.organization_id for d in db.exec(select(Domain)).all()] == [reseller_b.id]
    with pytest.raises(ValidationFailed) as bad:
        save_licence(
            db,
            _actor(db, tree, "operator"),
            reseller_a.id,
            {  # type: ignore[arg-type]
                "tier": "",
                "max_customers": "-3",
                "authorized_domains": ["bad host"],
                "features": ["everything"],
                "grace_days": "99999",
            },
        )
    assert set(bad.value.errors) == {"tier", "max_customers", "authorized_domains", "features", "grace_days"}


@pytest.mark.parametrize("licensed", [False, True])
@pytest.mark.parametrize(
    "host,why",
    [
        ("portal.test", "portal's own address"),
        ("anything.localhost", "where the platform's instances live"),
        ("cust-b.localhost", "where the platform's instances live"),
        ("localhost", "host name"),
    ],
)
def test_a_seller_never_claims_the_portal_the_instance_domain_or_an_instance(
    db: Session, tree: dict, licensed: bool, host: str, why: str
) -> None:
    """BASE_DOMAIN is `localhost` and PUBLIC_URL `http://portal.test` in the tests."""
    if licensed:
        _licence(db, tree, "reseller-a")
    with pytest.raises(ValidationFailed, match=why):
        add_domain(db, _actor(db, tree, "a-admin"), _org(db, "reseller-a").id, host)  # type: ignore[arg-type]
    db.rollback()
    assert db.exec(select(Domain)).all() == []


def test_without_a_licence_a_seller_has_no_custom_domain_at_all(db: Session, tree: dict) -> None:
    with pytest.raises(ValidationFailed, match="does not include custom domains"):
        add_domain(db, _actor(db, tree, "a-admin"), _org(db, "reseller-a").id, "portal.alpha.example")  # type: ignore[arg-type]


def test_platform_staff_may_give_a_reseller_a_name_under_the_base_domain_but_never_an_instances(
    db: Session, tree: dict
) -> None:
    operator, reseller = _actor(db, tree, "operator"), _org(db, "reseller-a")
    with pytest.raises(ValidationFailed, match="instance address"):
        add_domain(db, operator, reseller.id, "cust-a.localhost")  # type: ignore[arg-type]
    db.rollback()
    add_domain(db, operator, reseller.id, "alpha.localhost")  # type: ignore[arg-type]
    db.commit()
    # ... and from then on nobody can sign up as "alpha": their instance would answer on the reseller's portal
    assert username_problem(db, "alpha") == "This username is already taken."


@pytest.mark.parametrize("name", ["xn--80ak6aa92e", "ab--cd", "XN--abc-123"])
def test_punycode_and_reserved_ace_usernames_are_refused(db: Session, name: str) -> None:
    assert "two hyphens" in (username_problem(db, name) or "")


def test_features_gate_custom_css_and_hiding_the_platform_at_save_and_when_shown(db: Session, tree: dict) -> None:
    admin, reseller = _actor(db, tree, "a-admin"), _org(db, "reseller-a")
    for field, values in (
        ("custom_css", {"custom_css": "body { color: red; }"}),
        ("hide_platform_branding", {"hide_platform_branding": True}),
    ):
        with pytest.raises(ValidationFailed, match="does not include") as refused:
            branding.update(db, admin, reseller.id, {"platform_name": "A", **values})  # type: ignore[arg-type]
        assert field in refused.value.errors
        db.rollback()
    _licence(db, tree, "reseller-a")
    branding.update(
        db,
        admin,
        reseller.id,
        {
            "platform_name": "A",
            "custom_css": "body { color: red; }",  # type: ignore[arg-type]
            "hide_platform_branding": True,
        },
    )
    db.commit()
    assert brand_for(db, reseller.id).custom_css and brand_for(db, reseller.id).hide_platform_branding
    _licence(db, tree, "reseller-a", features=["custom_domains"])  # the licence loses the features
    shown = brand_for(db, reseller.id)
    assert shown.custom_css == "" and shown.hide_platform_branding is False and shown.powered_by


def _signup(db: Session, parent: Organization, name: str) -> int:
    return service.signup(
        db, email=f"{name}@example.com", username=name, password="long enough password", parent_org_id=parent.id
    ).organization_id


def test_customers_of_a_sub_reseller_count_toward_the_parents_limit(db: Session, tree: dict) -> None:
    """cust-a belongs to sub-a, below reseller-a: with room for one customer, reseller-a is full."""
    _licence(db, tree, "reseller-a", max_customers="1")
    for parent in ("reseller-a", "sub-a"):
        with pytest.raises(ValidationFailed, match="Reseller-A cannot take new customers"):
            _signup(db, _org(db, parent), f"newbie{parent[0]}")
        db.rollback()
    _licence(db, tree, "reseller-a", max_customers="2")
    assert _signup(db, _org(db, "sub-a"), "welcome")


def test_max_instances_is_enforced_when_an_instance_is_created(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-b")
    _licence(db, tree, "reseller-b", max_instances="1")  # cust-b's instance is the one
    db.add(Plan(organization_id=reseller.id, name="Free", slug="free", price_cents=0))
    db.commit()
    org_id = _signup(db, reseller, "onemore")
    with pytest.raises(ValidationFailed, match="cannot start new instances"):
        enrol(db, organization_id=org_id, email="onemore@example.com", plan_slug="free")


def test_an_expired_licence_warns_during_its_grace_then_stops_signups(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-b")
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    _licence(db, tree, "reseller-b", expires_at=parse_expiry(yesterday), grace_days="3")
    assert "New customers and new instances stop on" in console_banner(db, reseller.id)  # type: ignore[arg-type]
    assert _signup(db, reseller, "graceful")  # still within the grace days
    db.commit()
    _licence(db, tree, "reseller-b", expires_at=parse_expiry(yesterday), grace_days="0")
    assert "are stopped" in console_banner(db, reseller.id)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="Reseller-B cannot take new customers"):
        _signup(db, reseller, "latecomer")
    db.rollback()
    _licence(db, tree, "reseller-b", status="suspended")
    assert "suspended" in console_banner(db, reseller.id)  # type: ignore[arg-type]
    assert db.exec(select(Licence)).one().status == "suspended"


def test_licence_rules_at_their_edges(db: Session, tree: dict) -> None:
    from services.tenancy.licences import has_feature

    platform = _org(db, "platform")
    assert has_feature(db, platform.id, "custom_css")  # the platform itself needs no licence
    with pytest.raises(ValueError, match="unknown licence feature"):
        has_feature(db, platform.id, "time_travel")
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    _licence(db, tree, "reseller-b", expires_at=parse_expiry(soon), max_instances="5")
    assert "expires on" in console_banner(db, _org(db, "reseller-b").id)  # type: ignore[arg-type]
    assert "expires on" not in console_banner(db, _org(db, "reseller-a").id)  # type: ignore[arg-type]
    db.add(Plan(organization_id=_org(db, "reseller-b").id, name="Free", slug="free", price_cents=0))
    db.commit()
    org_id = _signup(db, _org(db, "reseller-b"), "roomy")
    assert enrol(db, organization_id=org_id, email="roomy@example.com", plan_slug="free").instance_id


def test_blank_limits_mean_none_and_out_of_range_ones_are_named(db: Session, tree: dict) -> None:
    """A blank limit field used to reach pydantic's bounds as None and raise a TypeError (a 500 in the console)."""
    operator = _actor(db, tree, "operator")
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-b")).one()
    saved = save_licence(
        db,
        operator,
        reseller.id,
        {"tier": "t", "max_customers": "", "max_instances": None},  # type: ignore[arg-type]
    )
    assert (saved.max_customers, saved.max_instances) == (None, None)
    with pytest.raises(ValidationFailed) as caught:
        save_licence(
            db,
            operator,
            reseller.id,
            {"tier": "t", "max_customers": "-1", "max_instances": "99999999999"},  # type: ignore[arg-type]
        )
    assert set(caught.value.errors) == {"max_customers", "max_instances"}


def test_the_platform_fee_is_typed_in_percent_and_kept_in_basis_points(db: Session, tree: dict) -> None:
    operator = _actor(db, tree, "operator")
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-b")).one()
    saved = save_licence(db, operator, reseller.id, {"tier": "t", "application_fee_percent": "12.5"})  # type: ignore[arg-type]
    assert saved.application_fee_bps == 1250
    for bad in ("101", "-1", "1.234", "lots"):
        with pytest.raises(ValidationFailed) as caught:
            save_licence(db, operator, reseller.id, {"tier": "t", "application_fee_percent": bad})  # type: ignore[arg-type]
        assert "application_fee_bps" in caught.value.errors, bad
