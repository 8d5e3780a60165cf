from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from portal.api import api_transformer
from services.accounts import service
from services.billing.enrolment import enrol
from services.models import Instance, Organization, OrgKind, Plan, Subscription
from tests.support.stripe_support import FakeStripe, event, sign, subscription_object

SECRET = "whsec_test_" + "0" * 24


async def reflex_stand_in(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Where the portal mounts Reflex: anything that reaches it answers 418, so a test sees it got there."""
    await send({"type": "http.response.start", "status": 418, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"reflex"})


@dataclass
class Billing:
    stripe: FakeStripe
    client: TestClient
    provisioning: list[tuple[str, float]] = field(default_factory=list)
    reached_reflex_top: list[str] = field(default_factory=list)

    def post(self, payload: str, signature: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if signature is not False:  # type: ignore[comparison-overlap]
            headers["Stripe-Signature"] = signature if signature is not None else sign(payload, SECRET)
        response = self.client.post("/api/stripe/webhook", content=payload.encode(), headers=headers)
        return response.status_code, response.json()


def production_app(monkeypatch: pytest.MonkeyPatch, reached_reflex_top: list[str]) -> ASGIApp:
    """What the production server (granian) gets from portal.portal's ASGI factory, with a stand-in, which notes
    each path it is asked for, where Reflex's own top-level app (its CORS, contexts, pages) would be."""
    import reflex as rx

    from portal.portal import app

    inner = api_transformer(reflex_stand_in)

    async def reflex_top(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            reached_reflex_top.append(scope["path"])
        await inner(scope, receive, send)

    monkeypatch.setattr(rx.App, "__call__", lambda self: reflex_top)
    return app()


@dataclass
class PaidCustomer:
    organization_id: int
    subscription_id: int
    instance_id: int
    checkout_url: str
    checkout_session_id: str
    stripe_subscription_id: str
    customer_id: str


def plans(db: Session) -> tuple[Plan, Plan]:
    platform = db.exec(select(Organization).where(Organization.kind == OrgKind.PLATFORM)).first()
    if platform is None:
        platform = Organization(name="Platform", slug="platform", kind=OrgKind.PLATFORM)
        db.add(platform)
        db.flush()
    existing = db.exec(select(Plan).where(Plan.slug == "basic")).first()
    if existing:
        return existing, db.exec(select(Plan).where(Plan.slug == "premium")).one()
    basic = Plan(
        organization_id=platform.id,
        name="Basic",
        slug="basic",
        price_cents=1900,  # type: ignore[arg-type]
        stripe_price_id="price_basic",
        budget_included_micros=10_000_000,
        grace_days=7,
        retention_days=30,
        limits={"memory_mb": 256},
    )
    premium = Plan(
        organization_id=platform.id,
        name="Premium",
        slug="premium",
        price_cents=4900,  # type: ignore[arg-type]
        stripe_price_id="price_premium",
        budget_included_micros=40_000_000,
        grace_days=7,
        retention_days=30,
        limits={"memory_mb": 1024},
    )
    db.add(basic)
    db.add(premium)
    db.commit()
    return basic, premium


def paid_customer(db: Session, billing: Billing, username: str = "payer") -> PaidCustomer:
    plans(db)
    result = service.signup(db, email=f"{username}@example.com", username=username, password="long enough password")
    enrolment = enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="basic")
    db.commit()
    subscription = db.get(Subscription, enrolment.subscription_id)
    assert subscription is not None and enrolment.checkout_url
    sub_id, customer = f"sub_{username}", f"cus_{username}"
    metadata = {
        "organization_id": str(result.organization_id),
        "instance_id": str(enrolment.instance_id),
        "portal_subscription_id": str(subscription.id),
    }
    billing.stripe.subscriptions[sub_id] = subscription_object(sub_id, customer, "price_basic", metadata=metadata)
    return PaidCustomer(
        result.organization_id,
        subscription.id,
        enrolment.instance_id,  # type: ignore[arg-type]
        enrolment.checkout_url,
        subscription.checkout_session_id or "",
        sub_id,
        customer,
    )


def checkout_completed(customer: PaidCustomer) -> dict:
    from tests.support.stripe_support import stripe_object

    session = stripe_object(
        "checkout.session",
        id=customer.checkout_session_id,
        mode="subscription",
        status="complete",
        payment_status="paid",
        customer=customer.customer_id,
        subscription=customer.stripe_subscription_id,
        client_reference_id=str(customer.organization_id),
        metadata={"portal_subscription_id": str(customer.subscription_id)},
    )
    return event("checkout.session.completed", session)


def payload(evt: dict) -> str:
    return json.dumps(evt)


def instance(db: Session, customer: PaidCustomer) -> Instance:
    row = db.get(Instance, customer.instance_id)
    assert row is not None
    db.refresh(row)
    return row


def subscription(db: Session, customer: PaidCustomer) -> Subscription:
    row = db.get(Subscription, customer.subscription_id)
    assert row is not None
    db.refresh(row)
    return row
