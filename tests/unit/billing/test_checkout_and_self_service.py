"""Outbound Stripe calls: what we send is checked by the local Stripe stand-in; failures change nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from services.accounts import service
from services.billing.enrolment import enrol
from services.billing.self_service import billing_portal_url, change_plan
from services.errors import ValidationFailed
from services.models import Instance, Organization, Subscription, User
from tests.support import tenants
from tests.support.billing import Billing, checkout_completed, paid_customer, payload, plans


def test_checkout_session_wire_format(db: Session, billing: Billing) -> None:
    customer = paid_customer(db, billing, "wire")
    [request] = [r for r in billing.stripe.requests if r["path"] == "/v1/checkout/sessions"]
    form, headers = request["form"], request["headers"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["Idempotency-Key"].startswith(f"portal-checkout-{customer.subscription_id}-")
    assert headers["Stripe-Version"] == "2026-10-28.endive"
    assert form["mode"] == "subscription" and form["line_items[0][price]"] == "price_basic"
    assert form["client_reference_id"] == str(customer.organization_id)
    assert form["metadata[portal_subscription_id]"] == str(customer.subscription_id)
    assert form["subscription_data[metadata][instance_id]"] == str(customer.instance_id)
    assert form["success_url"].endswith("/billing/success?session_id={CHECKOUT_SESSION_ID}")
    assert form["customer_email"] == "wire@example.com"
    assert billing.stripe.problems == []
    assert customer.checkout_url.startswith(billing.stripe.url)


def test_provider_down_at_signup_creates_nothing(db: Session, billing: Billing) -> None:
    plans(db)
    billing.stripe.fail_with = 503
    counts = {
        m: db.exec(select(func.count()).select_from(m)).one() for m in (User, Organization, Subscription, Instance)
    }
    with pytest.raises(ValidationFailed) as caught:
        result = service.signup(db, email="down@example.com", username="downer", password="long enough password")
        enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="basic")
    db.rollback()
    assert "cannot be reached" in caught.value.errors[""]
    assert {m: db.exec(select(func.count()).select_from(m)).one() for m in counts} == counts


def test_unknown_plan_is_refused_at_the_field(db: Session, billing: Billing) -> None:
    plans(db)
    result = service.signup(db, email="p@example.com", username="planless", password="long enough password")
    with pytest.raises(ValidationFailed) as caught:
        enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="no-such-plan")
    assert "Choose one of the plans" in caught.value.errors["plan"]


def test_plan_change_updates_the_price_at_stripe_and_portal_opens(db: Session, billing: Billing) -> None:
    customer = paid_customer(db, billing, "changer")
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    who = tenants.customer(db, "changer")
    assert change_plan(db, who, "premium") is None
    [update] = [
        r
        for r in billing.stripe.requests
        if r["method"] == "POST" and r["path"] == f"/v1/subscriptions/{customer.stripe_subscription_id}"
    ]
    assert update["form"]["items[0][price]"] == "price_premium" and update["headers"].get("Idempotency-Key")

    with pytest.raises(ValidationFailed):
        change_plan(db, who, "basic-typo")
    url = billing_portal_url(db, who)
    assert url == f"{billing.stripe.url}/portal/{customer.customer_id}"


def test_self_service_refusals_say_why_and_change_nothing(db: Session, billing: Billing) -> None:
    from services.billing.self_service import retry_payment
    from services.models import Plan

    customer = paid_customer(db, billing, "selfserve")
    who = tenants.customer(db, "selfserve")
    url = retry_payment(db, who)  # not paid yet: a new checkout
    assert url.startswith(billing.stripe.url)
    db.commit()
    with pytest.raises(ValidationFailed, match="on this plan already"):
        change_plan(db, who, "basic")
    free = Plan(organization_id=db.exec(select(Plan.organization_id)).first(), name="Free", slug="free", price_cents=0)
    db.add(free)
    db.commit()
    with pytest.raises(ValidationFailed, match="cancel your subscription"):
        change_plan(db, who, "free")
    assert change_plan(db, who, "premium", "").startswith(billing.stripe.url)  # never paid: a checkout
    with pytest.raises(ValidationFailed, match="nothing to manage"):
        billing_portal_url(db, who)
    db.rollback()

    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    with pytest.raises(ValidationFailed, match="already paid"):
        retry_payment(db, who)
    billing.stripe.fail_with = 503
    for attempt in (lambda: change_plan(db, who, "premium"), lambda: billing_portal_url(db, who)):
        with pytest.raises(ValidationFailed, match="cannot be reached"):
            attempt()
        db.rollback()


def test_an_account_without_a_subscription_is_told_so(db: Session, billing: Billing) -> None:
    result = service.signup(db, email="nosub@example.com", username="nosub", password="long enough password")
    db.commit()
    with pytest.raises(ValidationFailed, match="no subscription"):
        billing_portal_url(db, tenants.customer(db, "nosub"))
    assert result.user_id
