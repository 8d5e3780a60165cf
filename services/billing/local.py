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
from urllib.parse import urlencode, urlsplit

import httpx
import stripe
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from services.billing.gateway import DOWNGRADE_AT, CheckoutRequest
from services.billing.plans import price_said
from services.billing.webhook_secret import webhook_secret
from services.config import get_settings
from services.db import after_commit, session_scope
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.jobs.queue import task
from services.models import LocalStripeObject, Plan
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
        flag_modified(row, "data")  # callers change nested values of what `_get` read: equal to the old, yet new
        session.add(row)


def event(event_type: str, obj: dict[str, Any], account: str | None = None) -> dict[str, Any]:
    """A Stripe-shaped event; `account`: a Connect event, about (and from) a connected account."""
    extra = {"account": account} if account else {}
    return {
        **extra,
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
            "transfer_data": {"destination": request.destination_account} if request.destination_account else None,
            "application_fee_percent": request.application_fee_percent,
            "success_url": request.success_url.replace("{CHECKOUT_SESSION_ID}", session_id),
            "cancel_url": request.cancel_url,
            "url": f"{_origin(request.cancel_url)}/billing/test-checkout?session={session_id}",
        }
        _put(session, session_id, "checkout.session", data)
        return data

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        with session_scope() as session:
            return _get(session, subscription_id)

    def change_price(
        self,
        subscription_id: str,
        price_id: str,
        idempotency_key: str,
        *,
        downgrade_at: int | None = None,
        prorate: bool = True,
    ) -> dict[str, Any]:
        with session_scope() as session:
            subscription = _get(session, subscription_id)
            if subscription is None:
                raise ValidationFailed.single("", N_("This subscription does not exist."))
            subscription["items"]["data"][0]["price"] = {"id": price_id, "object": "price"}
            metadata = dict(subscription.get("metadata") or {})
            metadata.pop(DOWNGRADE_AT, None)
            if downgrade_at:
                metadata[DOWNGRADE_AT] = str(downgrade_at)
            subscription["metadata"] = metadata
            _put(session, subscription_id, "subscription", subscription)
            _send_after_commit(session, [event("customer.subscription.updated", subscription)])
        return subscription

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, idempotency_key: str) -> dict[str, Any]:
        with session_scope() as session:
            subscription = _get(session, subscription_id)
            if subscription is None:
                raise ValidationFailed.single("", N_("This subscription does not exist."))
            if subscription["status"] == "canceled":
                raise ValidationFailed.single("", N_("This subscription has already ended."))
            subscription["cancel_at_period_end"] = cancel
            subscription["canceled_at"] = int(time.time()) if cancel else None
            _put(session, subscription_id, "subscription", subscription)
            _send_after_commit(session, [event("customer.subscription.updated", subscription)])
        return subscription

    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        with session_scope() as session:
            subscription = _get(session, subscription_id)
            if subscription is None:
                return {"id": subscription_id, "status": "canceled"}
            if subscription["status"] != "canceled":
                now = int(time.time())
                subscription.update(status="canceled", ended_at=now, canceled_at=now, cancel_at_period_end=False)
                _put(session, subscription_id, "subscription", subscription)
                _send_after_commit(session, [event("customer.subscription.deleted", subscription)])
        return subscription

    def preview_invoice(self, customer_id: str, subscription_id: str) -> dict[str, Any] | None:
        with session_scope() as session:
            subscription = _get(session, subscription_id)
            if subscription is None or subscription["status"] == "canceled" or subscription["cancel_at_period_end"]:
                return None
            start = int(subscription["items"]["data"][0]["current_period_end"])
            end = start + int(PERIOD.total_seconds())
            return _invoice_object(session, None, subscription, start, end, "subscription_cycle", status="draft")

    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        return f"{_origin(return_url)}/billing/test-portal?customer={customer_id}"

    def create_connected_account(self, email: str, metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        # the same key gives the same account (Stripe's idempotency); the server's secret makes it unguessable
        account_id = "acct_local_" + hashlib.sha256((webhook_secret() + idempotency_key).encode()).hexdigest()[:20]
        with session_scope() as session:
            existing = _get(session, account_id)
            if existing:
                return existing
            account = {
                "id": account_id,
                "object": "account",
                "type": "express",
                "email": email,
                "metadata": metadata,
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "requirements": {"currently_due": ["external_account", "tos_acceptance.date"], "disabled_reason": None},
            }
            _put(session, account_id, "account", account)
            return account

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        query = urlencode({"account": account_id, "return": return_url})
        return f"{_origin(return_url)}/billing/test-connect?{query}"

    def retrieve_account(self, account_id: str) -> dict[str, Any] | None:
        with session_scope() as session:
            return _get(session, account_id)


def _price_line(session: Session, price_id: str) -> tuple[int, str, str]:
    """What the local Stripe charges for a price: the plan that sells it (test mode has no price objects)."""
    plan = session.exec(select(Plan).where(col(Plan.stripe_price_id) == price_id)).first()
    return (plan.price_cents, plan.currency, plan.name) if plan else (0, "usd", price_id)


def _invoice_object(
    session: Session,
    invoice_id: str | None,
    subscription: dict[str, Any],
    start: int,
    end: int,
    reason: str,
    *,
    status: str = "paid",
) -> dict[str, Any]:
    """A Stripe-shaped invoice for one period of the subscription (`invoice_id` None: the upcoming one, a draft
    with no number or links, as Stripe's preview is). Paid at once: the local card never fails."""
    price_id = subscription["items"]["data"][0]["price"]["id"]
    amount, currency, name = _price_line(session, price_id)
    customer = _get(session, subscription["customer"]) or {}
    number = None
    if invoice_id is not None:
        sequence = int(customer.get("next_invoice_sequence", 1))
        number = f"{customer.get('invoice_prefix', 'LOCAL')}-{sequence:04d}"
        customer["next_invoice_sequence"] = sequence + 1
        _put(session, subscription["customer"], "customer", customer)
    origin = customer.get("portal_origin") or get_settings().public_url
    paid = status == "paid"
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": subscription["customer"],
        "number": number,
        "status": status,
        "billing_reason": reason,
        "currency": currency,
        "total": amount,
        "subtotal": amount,
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1 if paid else 0,
        "next_payment_attempt": None if paid else start,
        "created": start,
        "period_start": start,
        "period_end": end,
        "hosted_invoice_url": f"{origin}/api/billing/local-invoices/{invoice_id}" if invoice_id else None,
        "invoice_pdf": f"{origin}/api/billing/local-invoices/{invoice_id}.pdf" if invoice_id else None,
        "lines": {
            "object": "list",
            "data": [
                {
                    "object": "line_item",
                    "amount": amount,
                    "currency": currency,
                    "description": f"1 × {name}",
                    "period": {"start": start, "end": end},
                    "quantity": 1,
                }
            ],
        },
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription["id"], "metadata": subscription["metadata"]},
        },
    }


def local_invoice(invoice_id: str) -> dict[str, Any] | None:
    """A test-mode invoice by its id (the id is the capability, as Stripe's hosted invoice link is)."""
    if not invoice_id.startswith("in_local_") or not get_settings().test_checkout_enabled:
        return None
    with session_scope() as session:
        row = session.get(LocalStripeObject, invoice_id)
        return dict(row.data) if row is not None and row.kind == "invoice" else None


def advance_clock(now: int | None = None) -> int:
    """Test mode's billing clock, run by the periodic billing job: a period that has ended renews with a new paid
    invoice or, when it was cancelled at period end, the subscription ends; each is told by its events, as Stripe
    would. Returns how many subscriptions moved."""
    now = now or int(time.time())
    moved = 0
    with session_scope() as session:
        rows = session.exec(select(LocalStripeObject).where(col(LocalStripeObject.kind) == "subscription")).all()
        for row in rows:
            subscription = dict(row.data)
            item = subscription["items"]["data"][0]
            end = int(item["current_period_end"])
            if subscription["status"] == "canceled" or end > now:
                continue
            moved += 1
            if subscription["cancel_at_period_end"]:
                subscription.update(status="canceled", ended_at=end)
                _put(session, row.id, "subscription", subscription)
                _send_after_commit(session, [event("customer.subscription.deleted", subscription)])
                continue
            new_end = end + int(PERIOD.total_seconds())
            item.update(current_period_start=end, current_period_end=new_end)
            invoice = _invoice_object(session, _new_id("in"), subscription, end, new_end, "subscription_cycle")
            subscription["latest_invoice"] = invoice["id"]
            _put(session, row.id, "subscription", subscription)
            _put(session, str(invoice["id"]), "invoice", invoice)
            _send_after_commit(
                session,
                [event("customer.subscription.updated", subscription), event("invoice.paid", invoice)],
            )
    return moved


def set_account_state(account_id: str, *, enabled: bool, disabled_reason: str | None = None) -> dict[str, Any]:
    """Test mode's Stripe onboarding: the seller "finishes" it (enabled), or Stripe later restricts the account
    (`disabled_reason`); either way the `account.updated` Connect event follows, as from Stripe."""
    if not get_settings().test_checkout_enabled:
        raise ValidationFailed.single("", N_("The test-mode Stripe stand-in is switched off on this portal."))
    with session_scope() as session:
        account = _get(session, account_id)
        if account is None or account.get("object") != "account":
            raise ValidationFailed.single("", N_("This account does not exist."))
        account.update(
            details_submitted=True,
            charges_enabled=enabled and not disabled_reason,
            payouts_enabled=enabled and not disabled_reason,
            requirements={"currently_due": [] if enabled else ["external_account"], "disabled_reason": disabled_reason},
        )
        _put(session, account_id, "account", account)
        _send_after_commit(session, [event("account.updated", account, account=account_id)])
    return account


def _origin(url: str) -> str:
    """The test-mode pages are served where the customer will come back to (their seller's host)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else get_settings().public_url


def checkout_summary(checkout_session_id: str) -> dict[str, Any] | None:
    """The checkout as the test-mode page shows it: with the plan's name and price per interval, as Stripe's own
    checkout shows them (a newcomer sees "Starter, $19.00 a month", not a price id)."""
    if not get_settings().test_checkout_enabled:
        return None
    with session_scope() as session:
        checkout = _get(session, checkout_session_id)
        if checkout is None:
            return None
        plan = session.exec(
            select(Plan).where(col(Plan.stripe_price_id) == str(checkout.get("price") or "")).order_by(col(Plan.id))
        ).first()
        if plan is not None:
            checkout = {
                **checkout,
                "plan_name": plan.name,
                "plan_amount": price_said(plan),
            }
        return checkout


def pay(checkout_session_id: str) -> str:
    """The test-mode "Pay" button. Returns the success URL to send the browser to."""
    if not get_settings().test_checkout_enabled:
        raise ValidationFailed.single("", N_("The test-mode checkout is switched off on this portal."))
    with session_scope() as session:
        checkout = _get(session, checkout_session_id)
        if checkout is None:
            raise ValidationFailed.single("", N_("This checkout session does not exist."))
        if checkout["status"] == "complete":
            return str(checkout["success_url"])
        now = utcnow()
        customer_id = checkout.get("customer") or _new_id("cus")
        if _get(session, customer_id) is None:
            _put(
                session,
                customer_id,
                "customer",
                {
                    "id": customer_id,
                    "object": "customer",
                    "invoice_prefix": secrets.token_hex(4).upper(),
                    "next_invoice_sequence": 1,
                    "portal_origin": _origin(str(checkout["cancel_url"])),
                },
            )
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
            "transfer_data": checkout.get("transfer_data"),
            "application_fee_percent": checkout.get("application_fee_percent"),
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
        invoice = _invoice_object(
            session,
            _new_id("in"),
            subscription,
            int(now.timestamp()),
            int((now + PERIOD).timestamp()),
            "subscription_create",
        )
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
