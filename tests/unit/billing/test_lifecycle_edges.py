"""The lifecycle's quiet cases: a terminated subscription stays terminated, an unpaid one runs nothing, and a
subscription whose instance is gone has nothing to keep running."""

from __future__ import annotations

from sqlmodel import Session

from services.billing.lifecycle import apply
from services.models import Instance, Subscription
from services.models.base import utcnow
from tests.support.factories import customer_instance


def _subscription(db: Session, name: str, **changes: object) -> tuple[Subscription, Instance]:
    instance = customer_instance(db, name)
    subscription = db.get(Subscription, instance.subscription_id)
    assert subscription is not None
    for field, value in changes.items():
        setattr(subscription, field, value)
    db.add(subscription)
    db.commit()
    return subscription, instance


def test_a_terminated_subscription_is_left_alone(db: Session, scheduled_actions: list) -> None:
    subscription, _instance = _subscription(db, "ended", terminated_at=utcnow(), status="active")
    assert apply(db, subscription) == "terminated" and scheduled_actions == []


def test_before_a_first_payment_nothing_runs(db: Session, scheduled_actions: list) -> None:
    for status in ("incomplete", "incomplete_expired", "paused"):
        subscription, _instance = _subscription(db, f"unpaid-{status.replace('_', '-')}", status=status)
        assert apply(db, subscription) == "waiting"
    assert scheduled_actions == []


def test_an_active_subscription_without_an_instance_has_nothing_to_start(db: Session, scheduled_actions: list) -> None:
    subscription, instance = _subscription(db, "gone", status="active")
    instance.status = "deprovisioned"
    db.add(instance)
    db.commit()
    assert apply(db, subscription) == "no instance" and scheduled_actions == []
