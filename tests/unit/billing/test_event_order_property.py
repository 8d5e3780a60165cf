"""Any order, any duplicates: a subscription's whole life ends in the same state, with one instance."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, func, select

from services.db import get_engine
from services.models import Budget, Instance, Plan, ProvisioningAction, StripeEvent, Subscription
from tests.support.billing import Billing, checkout_completed, paid_customer
from tests.support.stripe_support import event, invoice_object

LIFE = ["checkout", "created", "paid", "failed", "paid_again", "plan_change", "cancel"]


def _life_events(billing: Billing, customer) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    sub = json.loads(json.dumps(billing.stripe.subscriptions[customer.stripe_subscription_id]))

    def invoice(reason: str, status: str) -> dict:
        return invoice_object(
            customer.stripe_subscription_id, customer.customer_id, billing_reason=reason, status=status
        )

    return {
        "checkout": checkout_completed(customer),
        "created": event("customer.subscription.created", sub),
        "paid": event("invoice.paid", invoice("subscription_create", "paid")),
        "failed": event("invoice.payment_failed", invoice("subscription_cycle", "open")),
        "paid_again": event("invoice.paid", invoice("subscription_cycle", "paid")),
        "plan_change": event("customer.subscription.updated", sub),
        "cancel": event("customer.subscription.deleted", sub),
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(LIFE), duplicates=st.lists(st.sampled_from(LIFE), max_size=5))
def test_shuffled_and_duplicated_events_end_in_the_same_state(
    db: Session, billing: Billing, order: list[str], duplicates: list[str]
) -> None:
    SQLModel.metadata.drop_all(get_engine())
    SQLModel.metadata.create_all(get_engine())
    db.expunge_all()
    billing.provisioning.clear()
    billing.stripe.requests.clear()
    billing.stripe.subscriptions.clear()
    customer = paid_customer(db, billing)
    events = _life_events(billing, customer)
    # What Stripe says now, at the end of the story: moved to premium, then cancelled.
    truth = billing.stripe.subscriptions[customer.stripe_subscription_id]
    truth["items"]["data"][0]["price"]["id"] = "price_premium"
    truth.update(status="canceled", ended_at=int(time.time()))

    for name in order + duplicates:
        status, _ = billing.post(json.dumps(events[name]))
        assert status == 200

    db.expire_all()
    sub = db.get(Subscription, customer.subscription_id)
    premium = db.exec(select(Plan).where(Plan.slug == "premium")).one()
    assert sub is not None and sub.status == "canceled" and sub.plan_id == premium.id
    assert sub.suspended_at is not None and sub.terminated_at is None
    assert db.exec(select(func.count()).select_from(Instance)).one() == 1
    assert db.exec(select(func.count()).select_from(StripeEvent)).one() == len(LIFE)
    statuses = {(e.type, e.status, e.error) for e in db.exec(select(StripeEvent)).all()}
    assert {status for _type, status, _error in statuses} == {"processed"}, statuses
    actions = [a.action for a in db.exec(select(ProvisioningAction)).all()]
    assert actions.count("provision") <= 1 and actions.count("suspend") <= 1
    assert db.exec(select(func.count()).select_from(Budget)).one() <= 1
