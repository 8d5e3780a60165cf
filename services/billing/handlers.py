"""Stripe event handlers. Each one finds our customer, re-fetches the subscription, and calls sync_from_stripe."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, col, select

from services.billing.connect import sync_account
from services.billing.gateway import BillingGateway
from services.billing.invoices import record_invoice
from services.billing.provider import get_gateway
from services.billing.subscriptions import find_subscription, sync_from_stripe
from services.db import get_engine, session_scope
from services.models import StripeEvent, Subscription
from services.models.base import utcnow
from services.ops import incidents

log = logging.getLogger(__name__)

UNKNOWN_CUSTOMER = "no matching customer in this portal"


class Ignored(Exception):
    """The event is valid but not ours to act on; it is kept, marked ignored, with the reason."""


def _truth(gateway: BillingGateway, subscription_id: str | None) -> dict[str, Any]:
    """Stripe's current subscription. Fetched before anything is written: on SQLite the first write takes the
    database's only write lock, and the webhook route must not wait behind a round trip to Stripe."""
    if not subscription_id:
        raise Ignored("event names no subscription")
    truth = gateway.retrieve_subscription(subscription_id)
    if truth is None:
        raise Ignored(f"subscription {subscription_id} does not exist at Stripe")
    return truth


def _sync(session: Session, gateway: BillingGateway, subscription_id: str | None, **links: Any) -> str:
    return _sync_row(session, gateway, subscription_id, **links)[0]


def _sync_row(
    session: Session, gateway: BillingGateway, subscription_id: str | None, **links: Any
) -> tuple[str, Subscription]:
    ours = find_subscription(session, stripe_subscription_id=subscription_id, **links) if subscription_id else None
    truth = _truth(gateway, subscription_id)
    if ours is None:  # e.g. an invoice that arrived before its checkout: the subscription's metadata names us
        ours = find_subscription(session, metadata=truth.get("metadata"))
    if ours is None:
        raise Ignored(UNKNOWN_CUSTOMER)
    return sync_from_stripe(session, truth, ours), ours


def checkout_completed(session: Session, obj: dict[str, Any], gateway: BillingGateway) -> str:
    if obj.get("mode") != "subscription":
        raise Ignored("not a subscription checkout")
    ours = find_subscription(session, metadata=obj.get("metadata"), checkout_session_id=obj.get("id"))
    if ours is None:
        raise Ignored(UNKNOWN_CUSTOMER)
    truth = _truth(gateway, obj.get("subscription"))
    ours.checkout_session_id = obj.get("id")
    ours.stripe_customer_id = obj.get("customer") or ours.stripe_customer_id
    return sync_from_stripe(session, truth, ours)


def subscription_changed(session: Session, obj: dict[str, Any], gateway: BillingGateway) -> str:
    return _sync(session, gateway, obj.get("id"), metadata=obj.get("metadata"), customer_id=obj.get("customer"))


def invoice_event(session: Session, obj: dict[str, Any], gateway: BillingGateway) -> str:
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    subscription_id = details.get("subscription")
    if not subscription_id:  # older shapes: the line items still name it
        for line in (obj.get("lines") or {}).get("data") or []:
            subscription_id = ((line.get("parent") or {}).get("subscription_item_details") or {}).get("subscription")
            if subscription_id:
                break
    outcome, ours = _sync_row(
        session, gateway, subscription_id, metadata=details.get("metadata"), customer_id=obj.get("customer")
    )
    record_invoice(session, obj, ours)  # the customer's invoice list, kept from the events
    return outcome


def account_updated(session: Session, obj: dict[str, Any], gateway: BillingGateway) -> str:
    """A seller's connected account changed: Stripe's current account is read again and copied."""
    account_id = obj.get("id")
    if not isinstance(account_id, str) or not account_id.startswith("acct_"):
        raise Ignored("event names no account")
    truth = gateway.retrieve_account(account_id)
    if truth is None:
        raise Ignored(f"account {account_id} is not reachable at Stripe")
    outcome = sync_account(session, truth)
    if outcome == "unknown account":
        raise Ignored("no seller in this portal has this account")
    return outcome


HANDLERS: dict[str, Callable[[Session, dict[str, Any], BillingGateway], str]] = {
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_event,
    "invoice.payment_succeeded": invoice_event,
    "invoice.payment_failed": invoice_event,
    "invoice.finalized": invoice_event,
    "invoice.updated": invoice_event,
    "invoice.voided": invoice_event,
    "invoice.marked_uncollectible": invoice_event,
    "account.updated": account_updated,
}


def handle(stripe_event_id: str, gateway: BillingGateway | None = None, *, replay: bool = False) -> str:
    """Handle a stored event once. A duplicate (already processed or ignored) is a no-op unless replayed.

    The handler reads and asks Stripe first and writes last, so a write transaction (on SQLite: the write lock
    the webhook route needs) lasts only as long as the writes. An event that is ignored or fails keeps nothing
    its handler wrote, only its own outcome."""
    with one_billing_writer_at_a_time(), session_scope() as session:
        event = session.exec(select(StripeEvent).where(col(StripeEvent.stripe_id) == stripe_event_id)).first()
        if event is None:
            return "missing"
        if event.status in ("processed", "ignored") and not replay:
            return event.status
        handler = HANDLERS.get(event.type)
        if handler is None:
            return _record(session, event, "ignored", "event type not handled")
        payload_object = (event.payload.get("data") or {}).get("object") or {}
        try:
            outcome = handler(session, payload_object, gateway or get_gateway())
        except Ignored as exc:
            session.rollback()
            return _record(session, event, "ignored", str(exc))
        except Exception as exc:
            session.rollback()
            _record(session, event, "failed", f"{type(exc).__name__}: {exc}"[:2000])
            session.commit()
            raise
        log.info("stripe event %s (%s): %s", stripe_event_id, event.type, outcome)
        incidents.resolve_incident(session, incidents.WEBHOOK_FAILED, stripe_event_id)  # a replay repaired it
        return _record(session, event, "processed", None)


def _record(session: Session, event: StripeEvent, status: str, error: str | None) -> str:
    event.attempts += 1
    event.status, event.error = status, error
    if status != "failed":
        event.processed_at = utcnow()
    session.add(event)
    return status


_sqlite_handling = threading.Lock()


@contextmanager
def one_billing_writer_at_a_time() -> Iterator[None]:
    """PostgreSQL serialises two handlers of one subscription with the row lock `find_subscription` takes. SQLite
    has no row locks (it ignores FOR UPDATE), and since Stripe is asked before anything is written, two consumer
    threads could each write what they read, the older state last (two handlers, or a handler and the periodic
    timeline job). A SQLite portal runs one consumer process, so one lock in that process keeps them in order."""
    if get_engine().dialect.name != "sqlite":
        yield
        return
    with _sqlite_handling:
        yield


def alert_failed(stripe_event_id: str, error: BaseException) -> None:
    """The event ran out of retries: staff are told once, and it waits in the console for a replay."""
    with session_scope() as session:
        event = session.exec(select(StripeEvent).where(col(StripeEvent.stripe_id) == stripe_event_id)).first()
        incidents.raise_incident(
            session,
            incidents.WEBHOOK_FAILED,
            stripe_event_id,
            title=f"Stripe event {stripe_event_id} ({event.type if event else 'unknown type'}) failed every retry",
            detail=f"{type(error).__name__}: {error}\nReplay it from the console once the cause is fixed.",
        )


def replay(stripe_event_id: str) -> str:
    """Admin replay: handlers are idempotent, so running one again only repairs."""
    return handle(stripe_event_id, replay=True)
