"""The test-mode checkout (no Stripe keys): its Pay button sends signed events through the real webhook route,
and the same handlers as with Stripe turn them into an active subscription and a provisioned instance."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from services.accounts import service
from services.billing import local
from services.billing.checkout_status import checkout_progress
from services.billing.enrolment import enrol
from services.billing.self_service import billing_portal_url, change_plan
from services.errors import ValidationFailed
from services.models import LocalStripeObject, Plan, StripeEvent, Subscription
from services.money import format_cents
from tests.support import tenants
from tests.support.billing import plans
from tests.support.env import SettingsEnv


def _enrolled(db: Session, username: str) -> tuple[int, str]:
    plans(db)
    result = service.signup(db, email=f"{username}@example.com", username=username, password="long enough password")
    enrolment = enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="basic")
    db.commit()
    assert enrolment.checkout_url is not None
    return result.organization_id, enrolment.checkout_url


def test_pay_delivers_signed_events_that_activate_the_subscription(db: Session, webhook_route: list[int]) -> None:
    _org_id, checkout_url = _enrolled(db, "tester")
    assert "/billing/test-checkout?session=" in checkout_url
    session_id = parse_qs(urlsplit(checkout_url).query)["session"][0]
    summary = local.checkout_summary(session_id)
    assert summary is not None and summary["status"] == "open" and summary["price"] == "price_basic"
    plan = db.exec(select(Plan).where(Plan.stripe_price_id == "price_basic")).one()
    assert summary["plan_name"] == plan.name and summary["plan_amount"].endswith(f" / {plan.interval}")
    assert summary["plan_amount"].startswith(format_cents(plan.price_cents, plan.currency))
    before = checkout_progress(session_id)
    assert before is not None and before.subscription_status == "incomplete"

    success = local.pay(session_id)

    assert success.endswith(f"session_id={session_id}")
    assert webhook_route == [200, 200, 200, 200]  # each event accepted by the real route, signature and all
    db.expire_all()
    types = sorted(db.exec(select(StripeEvent.type)).all())
    assert types == sorted(
        ["checkout.session.completed", "customer.subscription.created", "invoice.paid", "invoice.payment_succeeded"]
    )
    subscription = db.exec(select(Subscription)).one()
    assert subscription.status == "active" and subscription.stripe_subscription_id
    after = checkout_progress(session_id)
    assert after is not None and after.subscription_status == "active"
    assert after.instance_url.endswith("tester.localhost")
    # paying twice (a double click, the back button) sends nothing more and lands on the same page
    assert local.pay(session_id) == success
    assert len(webhook_route) == 4


def test_plan_change_and_portal_in_test_mode(db: Session, webhook_route: list[int]) -> None:
    _org_id, checkout_url = _enrolled(db, "changer")
    local.pay(parse_qs(urlsplit(checkout_url).query)["session"][0])
    who = tenants.customer(db, "changer")
    db.expire_all()
    change_plan(db, who, "premium")
    db.commit()
    assert webhook_route[-1] == 200  # customer.subscription.updated went through the route too
    stored = db.exec(select(LocalStripeObject).where(LocalStripeObject.kind == "subscription")).one()
    assert stored.data["items"]["data"][0]["price"]["id"] == "price_premium"
    db.expire_all()
    assert db.exec(select(Subscription)).one().plan_id != plans(db)[0].id
    portal = billing_portal_url(db, who)
    assert "/billing/test-portal?customer=cus_local_" in portal


def test_refusals_in_test_mode_change_nothing(db: Session, webhook_route: list[int], settings_env: SettingsEnv) -> None:
    with pytest.raises(ValidationFailed, match="does not exist"):
        local.pay("cs_test_local_nope")
    assert checkout_progress("") is None and checkout_progress("cs_unknown") is None
    with pytest.raises(ValidationFailed, match="does not exist"):
        local.LocalGateway().change_price("sub_missing", "price_premium", "key")
    _org_id, checkout_url = _enrolled(db, "switchedoff")
    session_id = parse_qs(urlsplit(checkout_url).query)["session"][0]
    settings_env.setenv("ENVIRONMENT", "production")  # production without ALLOW_TEST_CHECKOUT: switched off
    assert local.checkout_summary(session_id) is None
    with pytest.raises(ValidationFailed, match="switched off"):
        local.pay(session_id)
    assert webhook_route == []
    db.expire_all()
    assert db.exec(select(StripeEvent)).all() == []


def test_a_failed_delivery_raises_so_the_job_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, **kwargs: Any) -> httpx.Response:
        return httpx.Response(503, request=httpx.Request("POST", url))

    monkeypatch.setattr(local.httpx, "post", refuse)
    with pytest.raises(httpx.HTTPStatusError):
        local.post_signed('{"id": "evt_x"}')
