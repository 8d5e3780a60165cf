"""Keep our subscription row equal to Stripe's truth (always re-fetched, so event order does not matter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.billing import lifecycle
from services.billing.budgets import ensure_budget_period
from services.billing.gateway import DOWNGRADE_AT, from_unix, subscription_period_end, subscription_price_id
from services.models import Plan, Subscription
from services.models.base import key, utcnow


def current_subscription(session: Session, organization_id: int) -> Subscription | None:
    """The organization's newest subscription (one customer organization has one at a time)."""
    return session.exec(
        select(Subscription)
        .where(col(Subscription.organization_id) == organization_id)
        .order_by(col(Subscription.id).desc())
    ).first()


def find_subscription(
    session: Session,
    *,
    stripe_subscription_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    checkout_session_id: str | None = None,
    customer_id: str | None = None,
) -> Subscription | None:
    """Our row for a Stripe object, by the strongest link available. None means: not one of our customers."""
    candidates = []
    if stripe_subscription_id:
        candidates.append(col(Subscription.stripe_subscription_id) == stripe_subscription_id)
    portal_id = (metadata or {}).get("portal_subscription_id")
    if portal_id and str(portal_id).isdigit():
        candidates.append(col(Subscription.id) == int(portal_id))
    if checkout_session_id:
        candidates.append(col(Subscription.checkout_session_id) == checkout_session_id)
    if customer_id:
        candidates.append(col(Subscription.stripe_customer_id) == customer_id)
    for condition in candidates:
        row = session.exec(select(Subscription).where(condition).with_for_update()).first()
        if row is not None:
            return row
    return None


def _plan_for_price(session: Session, price_id: str | None, current: Plan) -> Plan:
    if not price_id or price_id == current.stripe_price_id:
        return current
    plan = session.exec(
        select(Plan).where(col(Plan.stripe_price_id) == price_id, col(Plan.organization_id) == current.organization_id)
    ).first()
    return plan or current


def _scheduled_or_billed(
    subscription: Subscription, billed: Plan, current: Plan, metadata: dict[str, Any] | None
) -> Plan:
    """The plan in force. A downgrade is billed from the next renewal (Stripe has the new price at once) but keeps
    the current plan and its limits until the time its metadata names; every event carries that, so it holds
    whatever order events arrive in, and a price moved any other way (undone, an upgrade, Stripe's billing portal)
    drops the schedule."""
    at = str((metadata or {}).get(DOWNGRADE_AT) or "")
    change_at = from_unix(at) if at.isdigit() and len(at) <= 12 else None
    if billed.id != current.id and change_at is not None and change_at > utcnow():
        subscription.scheduled_plan_id, subscription.plan_change_at = billed.id, change_at
        return current
    subscription.scheduled_plan_id = subscription.plan_change_at = None
    return billed


def apply_due_plan_changes(session: Session, now: datetime | None = None) -> int:
    """The periodic job: downgrades whose period has ended take effect (new limits) even if no event arrives."""
    now = now or utcnow()
    rows = session.exec(
        select(Subscription).where(
            col(Subscription.scheduled_plan_id).is_not(None), col(Subscription.plan_change_at) <= now
        )
    ).all()
    for subscription in rows:
        subscription.plan_id = subscription.scheduled_plan_id or subscription.plan_id
        subscription.scheduled_plan_id = subscription.plan_change_at = None
        subscription.updated_at = now
        session.add(subscription)
        lifecycle.apply(session, subscription, plan_changed=True, now=now)
    return len(rows)


def sync_from_stripe(session: Session, stripe_subscription: dict[str, Any], subscription: Subscription) -> str:
    """Copy Stripe's state onto our row, then let the lifecycle act on it."""
    subscription.stripe_subscription_id = stripe_subscription["id"]
    customer = stripe_subscription.get("customer")
    subscription.stripe_customer_id = customer if isinstance(customer, str) else (customer or {}).get("id")
    subscription.status = stripe_subscription.get("status") or subscription.status
    subscription.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
    subscription.current_period_end = from_unix(subscription_period_end(stripe_subscription))
    if subscription.status == "canceled":
        subscription.canceled_at = (
            subscription.canceled_at
            or from_unix(stripe_subscription.get("ended_at") or stripe_subscription.get("canceled_at"))
            or utcnow()
        )
    current_plan = session.get(Plan, subscription.plan_id)
    assert current_plan is not None
    billed = _plan_for_price(session, subscription_price_id(stripe_subscription), current_plan)
    plan = _scheduled_or_billed(subscription, billed, current_plan, stripe_subscription.get("metadata"))
    plan_changed = plan.id != current_plan.id
    subscription.plan_id = key(plan)
    subscription.updated_at = utcnow()
    session.add(subscription)
    if subscription.status in lifecycle.GOOD:
        ensure_budget_period(session, subscription, plan, subscription.current_period_end)
    return lifecycle.apply(session, subscription, plan_changed=plan_changed)
