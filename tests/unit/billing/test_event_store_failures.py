"""When storing or queueing fails, the webhook route says so honestly: a storage failure is a 500 (Stripe
delivers again) and stores nothing; a queue that cannot be reached still acknowledges a stored event, which
stays pending for the periodic sweep."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from services.billing import event_store
from services.models import StripeEvent
from tests.support.billing import Billing, checkout_completed, paid_customer, payload


def test_a_storage_failure_answers_500_and_stores_nothing(
    db: Session, billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = paid_customer(db, billing)

    def broken(self, events):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(event_store.EventStore, "_write", broken)
    status, body = billing.post(payload(checkout_completed(customer)))
    assert status == 500 and "retry" in body["error"]
    assert db.exec(select(StripeEvent)).all() == []


def test_a_queue_that_cannot_be_reached_leaves_the_stored_event_pending(
    db: Session, billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = paid_customer(db, billing)

    def unreachable(chunk):  # type: ignore[no-untyped-def]
        raise ConnectionError("queue down")

    monkeypatch.setattr(event_store, "handle_stripe_events", unreachable)
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    db.expire_all()
    assert [e.status for e in db.exec(select(StripeEvent)).all()] == ["pending"]  # the sweep re-queues it
