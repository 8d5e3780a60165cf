"""The included usage budget: granted at subscription start, reset when a new billing period begins."""

from __future__ import annotations

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
