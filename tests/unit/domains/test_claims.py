"""Claiming a domain: who may, how many, which names, what the owner is shown, and that nothing is served (no
brand, no certificate) before DNS proves it."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import domains as seller_domains
from services.branding.brand import brand_for_host
from services.domains import claims
from services.domains.ask import may_have_certificate
from services.errors import ValidationFailed
from services.models import AuditEvent, Domain, DomainStatus, Instance, Licence, Organization, Plan, Subscription
from services.tenancy.licences import FEATURES
from services.tenancy.scope import Forbidden
from tests.support.domains import prove
from tests.support.tenants import actor, customer


def _allow(db: Session, subdomain: str, count: int) -> Instance:
    instance = db.exec(select(Instance).where(Instance.subdomain == subdomain)).one()
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, "custom_domains": count}  # type: ignore[union-attr]
    db.add(plan)
    for slug in ("reseller-a", "reseller-b"):
        org = db.exec(select(Organization).where(Organization.slug == slug)).one()
        db.add(Licence(organization_id=org.id, tier="pro", features=list(FEATURES)))  # type: ignore[arg-type]
    db.commit()
    return instance


def _prove(db: Session, domain_id: int) -> None:
    domain = db.get(Domain, domain_id)
    assert domain is not None
    prove(db, domain.hostname, domain_id)


def test_a_plan_without_domains_refuses_and_one_with_a_limit_allows_that_many(db: Session, tree: dict) -> None:
    instance = db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    who = customer(db, "cust-a")
    with pytest.raises(ValidationFailed, match="does not include custom domains"):
        claims.add_instance_domain(db, who, instance.id, "app.example.org")  # type: ignore[arg-type]
    db.rollback()
    _allow(db, "cust-a", 1)
    view = claims.add_instance_domain(db, who, instance.id, "App.Example.Org.")  # type: ignore[arg-type]
    db.commit()
    assert view.hostname == "app.example.org" and view.status == DomainStatus.WAITING_DNS
    with pytest.raises(ValidationFailed, match="allows 1 custom domain"):
        claims.add_instance_domain(db, who, instance.id, "www.example.org")  # type: ignore[arg-type]


def test_the_records_to_create_name_the_token_and_the_instance_and_go_once_it_serves(
    db: Session, tree: dict, domain_jobs: list
) -> None:
    instance = _allow(db, "cust-a", 2)
    view = claims.add_instance_domain(db, customer(db, "cust-a"), instance.id, "app.example.org")  # type: ignore[arg-type]
    db.commit()
    token = db.get(Domain, view.id).token  # type: ignore[union-attr]
    assert len(token) >= 20
    assert view.records[:2] == [
        {"type": "TXT", "name": "_portal-challenge.app.example.org", "value": f"portal-verify={token}"},
        {"type": "CNAME", "name": "app.example.org", "value": "cust-a.localhost"},
    ]
    assert ("check", view.id) in domain_jobs  # looked at once the claim is saved
    _prove(db, view.id)
    page = claims.instance_domains(db, customer(db, "cust-a"), instance.id)  # type: ignore[arg-type]
    assert page["domains"][0]["records"] == [] and page["domains"][0]["status_label"] == "Serving"
    assert page["may_add"] is True and page["allowance"] == 2


@pytest.mark.parametrize(
    "host,why",
    [
        ("portal.test", "portal's own address"),
        ("anything.localhost", "where the platform's instances live"),
        ("not a host", "host name"),
        ("x" * 300 + ".example", "host name"),
    ],
)
def test_names_a_customer_can_never_claim(db: Session, tree: dict, host: str, why: str) -> None:
    instance = _allow(db, "cust-a", 5)
    with pytest.raises(ValidationFailed, match=why):
        claims.add_instance_domain(db, customer(db, "cust-a"), instance.id, host)  # type: ignore[arg-type]
    db.rollback()
    assert db.exec(select(Domain)).all() == []


def test_an_unproven_claim_blocks_nobody_and_a_proven_one_blocks_everybody(db: Session, tree: dict) -> None:
    mine, theirs = _allow(db, "cust-a", 3), _allow(db, "cust-b", 3)
    squatter = claims.add_instance_domain(db, customer(db, "cust-b"), theirs.id, "app.example.org")  # type: ignore[arg-type]
    db.commit()
    owner = claims.add_instance_domain(db, customer(db, "cust-a"), mine.id, "app.example.org")  # type: ignore[arg-type]
    db.commit()
    assert squatter.id != owner.id
    with pytest.raises(ValidationFailed, match="already added"):
        claims.add_instance_domain(db, customer(db, "cust-b"), theirs.id, "app.example.org")  # type: ignore[arg-type]
    db.rollback()
    _prove(db, owner.id)
    with pytest.raises(ValidationFailed, match="already in use"):
        claims.add_instance_domain(db, customer(db, "cust-b"), theirs.id, "app.example.org")  # type: ignore[arg-type]
    db.rollback()


def test_another_customer_can_neither_see_nor_touch_a_domain_and_is_audited(db: Session, tree: dict) -> None:
    mine = _allow(db, "cust-a", 1)
    _allow(db, "cust-b", 1)
    view = claims.add_instance_domain(db, customer(db, "cust-a"), mine.id, "app.example.org")  # type: ignore[arg-type]
    db.commit()
    stranger = customer(db, "cust-b")
    before = len(db.exec(select(AuditEvent).where(AuditEvent.action == "customer.denied")).all())
    for attempt in (
        lambda: claims.remove_instance_domain(db, stranger, view.id),
        lambda: claims.check_instance_domain_now(db, stranger, view.id),
        lambda: claims.instance_domains(db, stranger, mine.id),  # type: ignore[arg-type]
        lambda: claims.add_instance_domain(db, stranger, mine.id, "other.example.org"),  # type: ignore[arg-type]
    ):
        with pytest.raises(Forbidden):
            attempt()
        db.rollback()
    after = len(db.exec(select(AuditEvent).where(AuditEvent.action == "customer.denied")).all())
    assert after == before + 4
    assert db.get(Domain, view.id) is not None


def test_a_sellers_portal_domain_is_never_a_customers_to_touch(db: Session, tree: dict) -> None:
    _allow(db, "cust-a", 1)
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    view = seller_domains.add_domain(db, actor(db, tree, "a-admin"), reseller.id, "portal.alpha.example")  # type: ignore[arg-type]
    db.commit()
    with pytest.raises(Forbidden):
        claims.remove_instance_domain(db, customer(db, "cust-a"), view.id)
    db.rollback()
    with pytest.raises(Forbidden):
        seller_domains.remove_domain(db, actor(db, tree, "b-admin"), view.id)
    db.rollback()
    assert db.get(Domain, view.id) is not None


def test_a_seller_domain_carries_the_brand_only_once_proven(db: Session, tree: dict) -> None:
    _allow(db, "cust-a", 0)
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    view = seller_domains.add_domain(db, actor(db, tree, "a-admin"), reseller.id, "portal.alpha.example")  # type: ignore[arg-type]
    db.commit()
    assert brand_for_host(db, "portal.alpha.example").organization_id != reseller.id  # the platform's brand
    _prove(db, view.id)
    assert brand_for_host(db, "portal.alpha.example").organization_id == reseller.id


def test_the_edge_may_get_a_certificate_only_for_names_we_serve(db: Session, tree: dict) -> None:
    instance = _allow(db, "cust-a", 2)
    claims.add_instance_domain(db, customer(db, "cust-a"), instance.id, "pending.example.org")  # type: ignore[arg-type]
    proven = claims.add_instance_domain(db, customer(db, "cust-a"), instance.id, "proven.example.org")  # type: ignore[arg-type]
    db.commit()
    _prove(db, proven.id)
    assert may_have_certificate(db, "cust-a.localhost")  # an instance's own host
    assert may_have_certificate(db, "PROVEN.example.org.")
    assert not may_have_certificate(db, "pending.example.org")
    assert not may_have_certificate(db, "nobody.localhost")  # no such instance
    assert not may_have_certificate(db, "unknown.example.org")
    for garbage in ("", "x" * 400, "a..b", "../etc", "exa mple.org", "\x00.org"):
        assert not may_have_certificate(db, garbage)
    claims.remove_instance_domain(db, customer(db, "cust-a"), proven.id)
    db.commit()
    assert not may_have_certificate(db, "proven.example.org")
    gone = db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    gone.status = "deprovisioned"
    db.add(gone)
    db.commit()
    assert not may_have_certificate(db, "cust-a.localhost")
