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


def _subscription_updates(billing: Billing, customer: object) -> list[dict]:
    path = f"/v1/subscriptions/{customer.stripe_subscription_id}"  # type: ignore[attr-defined]
    return [r["form"] for r in billing.stripe.requests if r["method"] == "POST" and r["path"] == path]


def test_cancel_downgrade_and_the_next_invoice_wire_format(db: Session, billing: Billing) -> None:
    """What Stripe receives for cancel at period end, a downgrade at period end, taking each back, and the
    preview of the next invoice; every parameter is one Stripe's typed parameters know."""
    from services.billing.subscription_changes import (
        billing_overview,
        cancel_downgrade,
        request_downgrade,
        set_cancellation,
    )

    billing.stripe.prices.update(price_basic=1900, price_premium=4900)
    customer = paid_customer(db, billing, "wirechanges")
    sub = billing.stripe.subscriptions[customer.stripe_subscription_id]
    sub["items"]["data"][0]["price"]["id"] = "price_premium"  # bought Premium
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    who = tenants.customer(db, "wirechanges")
    assert billing_overview(db, who).upcoming.startswith("$49 on ")
    [preview] = [r for r in billing.stripe.requests if r["path"] == "/v1/invoices/create_preview"]
    assert preview["form"] == {"customer": customer.customer_id, "subscription": customer.stripe_subscription_id}

    assert set_cancellation(db, who, True) == "cancelled"
    assert _subscription_updates(billing, customer)[-1] == {"cancel_at_period_end": "true"}
    assert billing_overview(db, who).upcoming == ""  # Stripe: no upcoming invoice for a subscription that ends
    assert set_cancellation(db, who, False) == "resumed"
    assert _subscription_updates(billing, customer)[-1] == {"cancel_at_period_end": "false"}

    assert request_downgrade(db, who, "basic") == "scheduled"
    form = _subscription_updates(billing, customer)[-1]
    assert form["items[0][price]"] == "price_basic" and form["proration_behavior"] == "none"
    assert form["metadata[portal_downgrade_at]"].isdigit()
    assert billing_overview(db, who).upcoming.startswith("$19 on ")  # the renewal is billed at the new price
    assert cancel_downgrade(db, who) == "undone"
    form = _subscription_updates(billing, customer)[-1]
    assert form["items[0][price]"] == "price_premium" and form["proration_behavior"] == "none"
    assert form["metadata[portal_downgrade_at]"] == ""  # the key is removed
    assert "portal_downgrade_at" not in sub["metadata"]
    assert billing.stripe.problems == []


def test_a_cancellation_stripe_refuses_changes_nothing(db: Session, billing: Billing) -> None:
    from services.billing.subscription_changes import set_cancellation

    customer = paid_customer(db, billing, "refusedcancel")
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    who = tenants.customer(db, "refusedcancel")
    billing.stripe.fail_with = 503
    with pytest.raises(ValidationFailed, match="cannot be reached"):
        set_cancellation(db, who, True)
    db.rollback()
    row = db.get(Subscription, customer.subscription_id)
    assert row is not None and row.cancel_at_period_end is False


def test_deleting_the_account_cancels_the_subscription_at_stripe_at_once(db: Session, billing: Billing) -> None:
    from services.privacy.erasure import delete_account

    customer = paid_customer(db, billing, "erasedpayer")
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    user = db.exec(select(User).where(User.username == "erasedpayer")).one()
    delete_account(db, user.id, "long enough password")  # type: ignore[arg-type]
    db.commit()
    [cancel] = [r for r in billing.stripe.requests if r["method"] == "DELETE"]
    assert cancel["path"] == f"/v1/subscriptions/{customer.stripe_subscription_id}"
    assert cancel["headers"].get("Idempotency-Key", "").startswith("portal-erase-")
    assert billing.stripe.subscriptions[customer.stripe_subscription_id]["status"] == "canceled"
    assert billing.stripe.problems == []
    row = db.get(Subscription, customer.subscription_id)
    assert row is not None and row.status == "canceled"
