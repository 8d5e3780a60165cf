"""The webhook handlers' refusals: what is not ours, not there, or not a subscription is recorded as ignored with
the reason, changes nothing, and is never handled twice unless an admin replays it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from services.billing import handlers
from services.billing.webhook_secret import webhook_secret
from services.models import StripeEvent, Subscription
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance


class Stripe:
    """The few calls handlers make, answering from a dict."""

    test_mode = True

    def __init__(self, subscriptions: dict[str, dict[str, Any]] | None = None) -> None:
        self.subscriptions = subscriptions or {}

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        return self.subscriptions.get(subscription_id)


def _stored(db: Session, event_type: str, obj: dict[str, Any], stripe_id: str = "evt_1") -> str:
    db.add(StripeEvent(stripe_id=stripe_id, type=event_type, payload={"data": {"object": obj}}))
    db.commit()
    return stripe_id


def _outcome(db: Session, stripe_id: str) -> tuple[str, str]:
    db.expire_all()
    event = db.exec(select(StripeEvent).where(StripeEvent.stripe_id == stripe_id)).one()
    return event.status, event.error or ""


@pytest.mark.parametrize(
    "event_type,obj,reason",
    [
        ("checkout.session.completed", {"mode": "payment"}, "not a subscription checkout"),
        ("checkout.session.completed", {"mode": "subscription", "metadata": {}}, "no matching customer"),
        ("customer.subscription.updated", {"id": None}, "names no subscription"),
        ("customer.subscription.updated", {"id": "sub_gone"}, "does not exist at Stripe"),
        ("invoice.paid", {"parent": {}, "lines": {"data": []}}, "names no subscription"),
        ("customer.created", {"id": "cus_1"}, "not handled"),
    ],
)
def test_what_is_not_ours_or_not_there_is_ignored_with_the_reason(
    db: Session, event_type: str, obj: dict[str, Any], reason: str
) -> None:
    stripe_id = _stored(db, event_type, obj)
    assert handlers.handle(stripe_id, Stripe()) == "ignored"
    status, error = _outcome(db, stripe_id)
    assert status == "ignored" and reason in error
    assert handlers.handle(stripe_id, Stripe()) == "ignored"  # a duplicate delivery does nothing
    assert handlers.handle("evt_never_stored", Stripe()) == "missing"


def test_an_invoice_in_the_older_shape_finds_its_subscription_through_its_lines(db: Session) -> None:
    instance = customer_instance(db, "olderinvoice")
    subscription = db.get(Subscription, instance.subscription_id)
    subscription.stripe_subscription_id = "sub_old"  # type: ignore[union-attr]
    db.add(subscription)
    db.commit()
    line = {"parent": {"subscription_item_details": {"subscription": "sub_old"}}}
    stripe_id = _stored(db, "invoice.paid", {"parent": {}, "lines": {"data": [{"parent": {}}, line]}})
    truth = {
        "id": "sub_old",
        "status": "active",
        "metadata": {},
        "items": {"data": []},
        "customer": "cus_x",
        "cancel_at_period_end": False,
    }
    assert handlers.handle(stripe_id, Stripe({"sub_old": truth})) == "processed"


def test_a_processed_event_runs_again_only_when_replayed(db: Session) -> None:
    stripe_id = _stored(db, "customer.created", {})
    handlers.handle(stripe_id, Stripe())
    assert handlers.handle(stripe_id, Stripe(), replay=True) == "ignored"
    assert db.exec(select(StripeEvent)).one().attempts == 2


def test_stripe_keys_without_a_webhook_secret_are_refused(settings_env: SettingsEnv) -> None:
    settings_env.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    settings_env.setenv("STRIPE_WEBHOOK_SECRET", "")
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        webhook_secret()
