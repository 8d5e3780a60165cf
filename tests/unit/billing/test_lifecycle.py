"""Every subscription transition, driven by signed webhooks and by the periodic timeline job."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from services.billing.lifecycle import enforce_timeline
from services.dashboard import load_dashboard
from services.models import Budget, Plan, ProvisioningAction, User
from services.models.base import utcnow
from services.tenancy.scope import resolve_customer
from tests.support.billing import (
    Billing,
    PaidCustomer,
    checkout_completed,
    instance,
    paid_customer,
    payload,
    subscription,
)
from tests.support.mailbox import outbox_messages, text_of
from tests.support.stripe_support import event, invoice_object


def _active(db: Session, billing: Billing) -> PaidCustomer:
    customer = paid_customer(db, billing)
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    row = instance(db, customer)
    row.status, row.desired_state = "running", "running"  # as if provisioning finished
    db.add(row)
    db.commit()
    return customer


def _stripe_says(billing: Billing, customer: PaidCustomer, **changes: object) -> None:
    billing.stripe.subscriptions[customer.stripe_subscription_id].update(changes)


def _invoice(billing: Billing, customer: PaidCustomer, kind: str, reason: str = "subscription_cycle") -> None:
    obj = invoice_object(
        customer.stripe_subscription_id,
        customer.customer_id,
        billing_reason=reason,
        status="open" if kind == "invoice.payment_failed" else "paid",
    )
    assert billing.post(json.dumps(event(kind, obj)))[0] == 200


def _actions(db: Session, customer: PaidCustomer) -> list[str]:
    return [
        a.action
        for a in db.exec(
            select(ProvisioningAction)
            .where(ProvisioningAction.instance_id == customer.instance_id)
            .order_by(ProvisioningAction.created_at)
        ).all()
    ]


def _user_id(db: Session, customer: PaidCustomer) -> int:
    return db.exec(select(User).where(User.username == "payer")).one().id  # type: ignore[return-value]


def _mails(outbox, word: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in outbox_messages(outbox) if word in m["Subject"] and m["To"] == "payer@example.com"]


def test_failed_payment_is_past_due_with_a_banner_naming_the_suspension_date(
    db: Session, billing: Billing, outbox
) -> None:  # type: ignore[no-untyped-def]
    customer = _active(db, billing)
    _stripe_says(billing, customer, status="past_due")
    _invoice(billing, customer, "invoice.payment_failed")
    enforce_timeline(db)  # the periodic job sees the same past_due subscription again: still one e-mail
    db.commit()
    failed = _mails(outbox, "payment")
    assert len(failed) == 1 and "failed" in failed[0]["Subject"]

    sub = subscription(db, customer)
    assert sub.status == "past_due" and sub.grace_until is not None
    assert timedelta(days=6, hours=23) < sub.grace_until - utcnow() <= timedelta(days=7)
    view = load_dashboard(db, resolve_customer(db, _user_id(db, customer)))
    assert sub.grace_until.strftime("%d %b %Y") in view.dunning_banner
    assert sub.grace_until.strftime("%d %b %Y") in text_of(failed[0])
    assert instance(db, customer).desired_state == "running"  # not suspended yet


def test_grace_passes_then_suspended_then_terminated_by_the_periodic_job(db: Session, billing: Billing, outbox) -> None:  # type: ignore[no-untyped-def]
    customer = _active(db, billing)
    _stripe_says(billing, customer, status="past_due")
    _invoice(billing, customer, "invoice.payment_failed")
    grace_until = subscription(db, customer).grace_until
    assert grace_until is not None

    assert enforce_timeline(db, now=grace_until - timedelta(minutes=1)) == 0  # its grace runs on: not even read
    db.commit()
    assert subscription(db, customer).suspended_at is None

    assert enforce_timeline(db, now=grace_until + timedelta(minutes=1)) == 1
    db.commit()
    assert subscription(db, customer).suspended_at is not None
    assert instance(db, customer).desired_state == "suspended" and _actions(db, customer)[-1] == "suspend"
    assert len(_mails(outbox, "suspended")) == 1

    enforce_timeline(db, now=grace_until + timedelta(days=30, minutes=1))
    db.commit()
    assert subscription(db, customer).terminated_at is not None
    assert _actions(db, customer)[-1] == "deprovision"
    enforce_timeline(db, now=grace_until + timedelta(days=31))  # nothing more happens after termination
    db.commit()
    assert _actions(db, customer).count("deprovision") == 1


def test_payment_before_termination_reactivates_everything(db: Session, billing: Billing) -> None:
    customer = _active(db, billing)
    _stripe_says(billing, customer, status="past_due")
    _invoice(billing, customer, "invoice.payment_failed")
    grace_until = subscription(db, customer).grace_until
    enforce_timeline(db, now=grace_until + timedelta(hours=1))  # type: ignore[operator]
    db.commit()
    assert instance(db, customer).desired_state == "suspended"
    row = instance(db, customer)
    row.status = "suspended"
    db.add(row)
    db.commit()

    _stripe_says(billing, customer, status="active")
    _invoice(billing, customer, "invoice.paid")
    sub = subscription(db, customer)
    assert sub.status == "active" and sub.grace_until is None and sub.suspended_at is None
    assert _actions(db, customer)[-1] == "resume" and instance(db, customer).desired_state == "running"


def test_plan_change_applies_the_new_plans_limits_and_budget(db: Session, billing: Billing) -> None:
    customer = _active(db, billing)
    billing.stripe.subscriptions[customer.stripe_subscription_id]["items"]["data"][0]["price"]["id"] = "price_premium"
    sub_obj = billing.stripe.subscriptions[customer.stripe_subscription_id]
    assert billing.post(json.dumps(event("customer.subscription.updated", sub_obj)))[0] == 200

    sub = subscription(db, customer)
    premium = db.exec(select(Plan).where(Plan.slug == "premium")).one()
    assert sub.plan_id == premium.id
    assert _actions(db, customer)[-1] == "apply_limits"
    budget = db.exec(select(Budget).where(Budget.subscription_id == sub.id)).one()
    assert budget.total_micros == premium.budget_included_micros


def test_cancel_at_period_end_keeps_the_instance_until_deleted(db: Session, billing: Billing) -> None:
    customer = _active(db, billing)
    _stripe_says(billing, customer, cancel_at_period_end=True)
    sub_obj = billing.stripe.subscriptions[customer.stripe_subscription_id]
    assert billing.post(json.dumps(event("customer.subscription.updated", sub_obj)))[0] == 200
    assert subscription(db, customer).cancel_at_period_end is True
    assert instance(db, customer).desired_state == "running" and "suspend" not in _actions(db, customer)

    _stripe_says(billing, customer, status="canceled", ended_at=int(utcnow().timestamp()))
    assert billing.post(json.dumps(event("customer.subscription.deleted", sub_obj)))[0] == 200
    sub = subscription(db, customer)
    assert sub.status == "canceled" and sub.suspended_at is not None
    assert _actions(db, customer)[-1] == "suspend"
    enforce_timeline(db, now=sub.canceled_at + timedelta(days=31))  # type: ignore[operator]
    db.commit()
    assert _actions(db, customer)[-1] == "deprovision"


def test_invoice_paid_for_a_new_period_resets_the_budget_once(db: Session, billing: Billing) -> None:
    customer = _active(db, billing)
    sub = subscription(db, customer)
    budget = db.exec(select(Budget).where(Budget.subscription_id == sub.id)).one()
    budget.used_micros = 7_000_000
    db.add(budget)
    db.commit()

    _invoice(billing, customer, "invoice.paid")  # same period: nothing resets
    db.refresh(budget)
    assert budget.used_micros == 7_000_000

    next_end = int((utcnow() + timedelta(days=60)).timestamp())
    billing.stripe.subscriptions[customer.stripe_subscription_id]["items"]["data"][0]["current_period_end"] = next_end
    _invoice(billing, customer, "invoice.paid")
    _invoice(billing, customer, "invoice.payment_succeeded")
    db.refresh(budget)
    assert budget.used_micros == 0 and int(budget.reset_at.timestamp()) == next_end  # type: ignore[union-attr]
