"""The included usage budget: granted at subscription start, reset when a new billing period begins.

A paid plan's period comes from Stripe (each invoice). A free plan has no invoices: its budget runs for a calendar
month from the signup and starts again by the clock (`roll_free_budgets`, with the billing timeline's job)."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlmodel import Session, col, select

from services.models import Budget, Plan, Subscription
from services.models.base import key, utcnow


def ensure_budget_period(
    session: Session, subscription: Subscription, plan: Plan, period_end: datetime | None
) -> Budget:
    """Idempotent and order-independent: keyed on the period end Stripe reports, never on event counts."""
    budget = session.exec(select(Budget).where(col(Budget.subscription_id) == subscription.id)).first()
    if budget is None:
        budget = Budget(
            subscription_id=key(subscription),
            total_micros=plan.budget_included_micros,
            used_micros=0,
            period_start=utcnow(),
            reset_at=period_end,
        )
    elif period_end is not None and (budget.reset_at is None or period_end > budget.reset_at):
        budget.used_micros, budget.alerts_sent = 0, []
        budget.period_start, budget.reset_at = utcnow(), period_end
        budget.total_micros = plan.budget_included_micros
    elif budget.total_micros != plan.budget_included_micros:
        budget.total_micros = plan.budget_included_micros  # plan change: the new allowance, usage so far kept
    session.add(budget)
    return budget


def next_month(moment: datetime) -> datetime:
    """The same day and time a calendar month later (the month's last day when it has fewer days)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def roll_free_budgets(session: Session, now: datetime | None = None) -> int:
    """Start a new period for every free plan's budget whose month is over; the number rolled. A budget from
    before free periods had an end gets one a month after it began, and rolls from there."""
    now = now or utcnow()
    rows = session.exec(
        select(Budget, Subscription, Plan)
        .join(Subscription, col(Subscription.id) == col(Budget.subscription_id))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(col(Plan.price_cents) == 0, col(Subscription.status) == "active")
        .where(col(Budget.reset_at).is_(None) | (col(Budget.reset_at) <= now))
    ).all()
    rolled = 0
    for budget, subscription, plan in rows:
        if budget.reset_at is None:
            budget.reset_at = next_month(budget.period_start)
            session.add(budget)
            if budget.reset_at > now:
                continue
        end = budget.reset_at
        while end <= now:
            end = next_month(end)
        ensure_budget_period(session, subscription, plan, end)
        rolled += 1
    return rolled
