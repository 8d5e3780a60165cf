"""A free plan has no invoices, so its budget starts a new month by the clock (and a blocked key is let through
again); a paid plan's budget waits for Stripe's invoice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from services.billing.budgets import next_month, roll_free_budgets
from services.models import Budget, Plan, Subscription
from tests.support.factories import customer_instance


def test_next_month_keeps_the_day_or_takes_the_months_last() -> None:
    assert next_month(datetime(2026, 1, 31, 9, tzinfo=UTC)) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert next_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


def _budget(db: Session, name: str, price_cents: int, reset_at: datetime | None, started: datetime) -> Budget:
    instance = customer_instance(db, name)
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.price_cents, plan.budget_included_micros = price_cents, 1000  # type: ignore[union-attr]
    budget = Budget(
        subscription_id=subscription.id,  # type: ignore[union-attr,arg-type]
        total_micros=1000,
        used_micros=1000,
        alerts_sent=[50, 80, 100],
        period_start=started,
        reset_at=reset_at,
    )
    db.add_all([plan, budget])  # type: ignore[list-item]
    db.commit()
    return budget


def test_a_free_budget_whose_month_is_over_starts_again_and_a_paid_one_waits(db: Session) -> None:
    now = datetime(2026, 6, 20, 12, tzinfo=UTC)
    free = _budget(db, "free-due", 0, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    paid = _budget(db, "paid-due", 1900, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    young = _budget(db, "free-young", 0, datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    old_style = _budget(db, "free-old", 0, None, now - timedelta(days=3))  # from before free periods had an end
    assert roll_free_budgets(db, now) == 1
    db.commit()
    for budget in (free, paid, young, old_style):
        db.refresh(budget)
    assert (free.used_micros, free.alerts_sent, free.reset_at) == (0, [], datetime(2026, 7, 1, tzinfo=UTC))
    assert (paid.used_micros, young.used_micros) == (1000, 1000)  # Stripe's invoice resets a paid one; not due
    assert old_style.used_micros == 1000 and old_style.reset_at == next_month(old_style.period_start)
