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
from tests.support.billing import checkout_completed, paid_customer, payload, plans
from tests.unit.billing.conftest import Billing


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
