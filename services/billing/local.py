"""Test mode without Stripe keys: a local checkout page and Stripe-shaped objects and events.

The "Pay" button creates the customer, subscription and invoice here, then delivers correctly signed
events to the real webhook route through the job queue, so exactly the same code path runs as with Stripe.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import stripe
from sqlmodel import Session

from services.billing.gateway import CheckoutRequest
from services.billing.webhook_secret import webhook_secret
from services.config import get_settings
from services.db import after_commit, session_scope
from services.errors import ValidationFailed
from services.jobs.queue import task
from services.models import LocalStripeObject
from services.models.base import utcnow

API_VERSION = "2026-10-28.endive"
PERIOD = timedelta(days=30)


def _new_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(10)}"


def _get(session: Session, object_id: str) -> dict[str, Any] | None:
    row = session.get(LocalStripeObject, object_id)
    return dict(row.data) if row else None


def _put(session: Session, object_id: str, kind: str, data: dict[str, Any]) -> None:
    row = session.get(LocalStripeObject, object_id)
    if row is None:
        session.add(LocalStripeObject(id=object_id, kind=kind, data=data))
    else:
        row.data = data
        session.add(row)


def event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }


@task(retries=10, retry_delay=2)
def deliver_local_stripe_event(payload: str) -> int:
    """Deliver a signed event to our own webhook route, as Stripe would (a job, so it is retried)."""
    return post_signed(payload)


def post_signed(payload: str) -> int:
    """Sign at send time (fresh timestamp) and post; raises on a non-2xx so the job retries."""
    header = stripe.WebhookSignature.generate_signature_header(payload, webhook_secret())
    response = httpx.post(
        f"{get_settings().internal_url}/api/stripe/webhook",
        content=payload.encode(),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=10,
    )
    response.raise_for_status()
    return response.status_code


def _send_after_commit(session: Session, events: list[dict[str, Any]]) -> None:
    payloads = [json.dumps(e) for e in events]

    def deliver_all() -> None:
        for payload in payloads:
            deliver_local_stripe_event(payload)

    after_commit(session, deliver_all)


class LocalGateway:
    test_mode = True

    def create_checkout_session(self, request: CheckoutRequest, session: Session | None = None) -> dict[str, Any]:
        if session is None:
            with session_scope() as own:
                return self.create_checkout_session(request, own)
        session_id = "cs_test_local_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        existing = _get(session, session_id)
        if existing:
            return existing
        data = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": str(request.organization_id),
            "customer": request.customer_id,
            "customer_email": request.customer_email,
            "metadata": request.metadata,
            "subscription_data": {"metadata": request.metadata},
            "price": request.price_id,
            "subscription": None,
            "success_url": request.success_url.replace("{CHECKOUT_SESSION_ID}", session_id),
            "cancel_url": request.cancel_url,
            "url": f"{_origin(request.cancel_url)}/billing/test-checkout?session={session_id}",
        }
        _put(session, session_id, "checkout.session", data)
        return data

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        with session_scope() as session:
            return _get(session, subscription_id)

    def change_price(self, subscription_id: str, price_id: str, idempotency_key: str) -> dict[str, Any]:
        with session_scope() as session:
            subscription = _get(session, subscription_id)
            if subscription is None:
                raise ValidationFailed.single("", "This subscription does not exist.")
            subscription["items"]["data"][0]["price"] = {"id": price_id, "object": "price"}
            _put(session, subscription_id, "subscription", subscription)
            _send_after_commit(session, [event("customer.subscription.updated", subscription)])
        return subscription

    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        return f"{_origin(return_url)}/billing/test-portal?customer={customer_id}"


def _origin(url: str) -> str:
    """The test-mode pages are served where the customer will come back to (their seller's host)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else get_settings().public_url


def checkout_summary(checkout_session_id: str) -> dict[str, Any] | None:
    if not get_settings().test_checkout_enabled:
        return None
    with session_scope() as session:
        return _get(session, checkout_session_id)


def pay(checkout_session_id: str) -> str:
    """The test-mode "Pay" button. Returns the success URL to send the browser to."""
    if not get_settings().test_checkout_enabled:
        raise ValidationFailed.single("", "The test-mode checkout is switched off on this portal.")
    with session_scope() as session:
        checkout = _get(session, checkout_session_id)
        if checkout is None:
            raise ValidationFailed.single("", "This checkout session does not exist.")
        if checkout["status"] == "complete":
            return str(checkout["success_url"])
        now = utcnow()
        customer_id = checkout.get("customer") or _new_id("cus")
        subscription_id = _new_id("sub")
        metadata = checkout["subscription_data"]["metadata"]
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "customer": customer_id,
            "status": "active",
            "metadata": metadata,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "ended_at": None,
            "created": int(now.timestamp()),
            "latest_invoice": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _new_id("si"),
                        "object": "subscription_item",
                        "price": {"id": checkout["price"], "object": "price"},
                        "quantity": 1,
                        "current_period_start": int(now.timestamp()),
                        "current_period_end": int((now + PERIOD).timestamp()),
                    }
                ],
            },
        }
        invoice = {
            "id": _new_id("in"),
            "object": "invoice",
            "customer": customer_id,
            "status": "paid",
            "billing_reason": "subscription_create",
            "amount_paid": 0,
            "attempt_count": 1,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription_id, "metadata": metadata},
            },
        }
        subscription["latest_invoice"] = invoice["id"]
        checkout.update(status="complete", payment_status="paid", customer=customer_id, subscription=subscription_id)
        _put(session, checkout_session_id, "checkout.session", checkout)
        _put(session, subscription_id, "subscription", subscription)
        _put(session, str(invoice["id"]), "invoice", invoice)
        _send_after_commit(
            session,
            [
                event("checkout.session.completed", checkout),
                event("customer.subscription.created", subscription),
                event("invoice.paid", invoice),
                event("invoice.payment_succeeded", invoice),
            ],
        )
        return str(checkout["success_url"])
