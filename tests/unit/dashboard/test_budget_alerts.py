"""Budget arithmetic and alerts: integer micros, thresholds once per period, the plan's policy at 100 %."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from services.billing.budgets import ensure_budget_period
from services.dashboard import load_dashboard
from services.models import Budget, Instance, Plan, ProvisioningAction, Subscription
from services.usage.alerts import newly_crossed, percent_used
from services.usage.ingest import budget_status, ingest, parse_batch
from tests.support import tenants
from tests.support.factories import customer_instance
from tests.support.mailbox import outbox_messages, text_of


def _spend(db: Session, instance: Instance, cost: str, key: str) -> None:
    now = datetime.now(UTC).isoformat()
    ingest(
        db,
        instance.id,
        parse_batch(
            {
                "records": [  # type: ignore[arg-type]
                    {"id": key, "model": "gpt-x", "tokens_in": 10, "tokens_out": 5, "cost": cost, "occurred_at": now}
                ]
            }
        ),
    )
    db.commit()


@pytest.fixture()
def customer(db: Session) -> Instance:
    instance = customer_instance(db, "spender")
    instance.status = "running"
    db.add(instance)
    db.add(
        Budget(
            subscription_id=instance.subscription_id,
            total_micros=10_000_000,
            used_micros=0,  # type: ignore[arg-type]
            reset_at=datetime.now(UTC) + timedelta(days=20),
        )
    )
    db.commit()
    return instance


def _policy(db: Session, instance: Instance, policy: str) -> Plan:
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    assert plan is not None
    plan.budget_policy = policy
    db.add(plan)
    db.commit()
    return plan


def _alert_mails(outbox) -> list:  # type: ignore[no-untyped-def]
    return [m for m in outbox_messages(outbox) if "budget" in m["Subject"]]


def test_percent_is_whole_and_rounded_down_and_thresholds_are_crossed_once() -> None:
    assert percent_used(10_000_000, 7_999_999) == 79
    assert percent_used(10_000_000, 8_000_000) == 80
    assert percent_used(0, 0) == 0 and percent_used(0, 1) == 100
    assert newly_crossed(100, 85, []) == [50, 80]
    assert newly_crossed(100, 85, [50, 80]) == []
    assert newly_crossed(100, 140, [50]) == [80, 100]


def test_each_alert_is_sent_once_per_period_and_rearmed_by_a_new_period(
    db: Session,
    customer: Instance,
    outbox,  # type: ignore[no-untyped-def]
    scheduled_actions: list,
) -> None:
    _spend(db, customer, "4.99", "a")  # 49.9 %: nothing yet
    assert _alert_mails(outbox) == []
    _spend(db, customer, "0.01", "b")  # exactly 50 %
    _spend(db, customer, "3.50", "c")  # 85 %: the 80 % alert, once
    _spend(db, customer, "0.10", "d")  # still above 80 %: nothing new
    mails = _alert_mails(outbox)
    assert [m["Subject"] for m in mails] == ["You have used 50 % of your budget", "You have used 80 % of your budget"]
    assert mails[0]["To"] == "spender@example.com" and "$10" in text_of(mails[1])
    view = load_dashboard(db, tenants.customer(db, "spender"))
    assert view.budget_percent == 86 and "86 % of your budget" in view.budget_banner
    assert view.budget_used == "$8.60" and view.budget_remaining == "$1.40"

    budget = db.exec(select(Budget)).one()
    subscription = db.get(Subscription, budget.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    ensure_budget_period(db, subscription, plan, budget.reset_at + timedelta(days=30))  # type: ignore[arg-type,operator]
    db.commit()
    assert budget.used_micros == 0 and budget.alerts_sent == []
    _spend(db, customer, "6.00", "e")  # the new period's 50 % alert goes out again
    assert len(_alert_mails(outbox)) == 3
    assert scheduled_actions == []  # notify-only plan: nothing is stopped


def test_block_policy_refuses_usage_at_100_percent_through_the_budget_check(
    db: Session,
    customer: Instance,  # type: ignore[no-untyped-def]
    outbox,
) -> None:
    _policy(db, customer, "block")
    _spend(db, customer, "9.99", "a")
    assert budget_status(db, customer.id)["allowed"] is True  # type: ignore[arg-type]
    _spend(db, customer, "0.01", "b")
    status = budget_status(db, customer.id)  # type: ignore[arg-type]
    assert status["allowed"] is False and status["remaining"] == "0"
    assert "no longer use paid models" in text_of(_alert_mails(outbox)[-1])


def test_suspend_policy_suspends_at_100_percent_and_only_a_new_period_brings_it_back(
    db: Session, customer: Instance, outbox, scheduled_actions: list
) -> None:  # type: ignore[no-untyped-def]
    from services.billing import lifecycle

    plan = _policy(db, customer, "suspend")
    _spend(db, customer, "12.00", "a")
    action = db.exec(select(ProvisioningAction)).one()
    assert action.action == "suspend" and action.requested_by == "budget"
    db.refresh(customer)
    assert customer.desired_state == "suspended"
    action.status = "succeeded"
    customer.status = "suspended"
    db.add_all([action, customer])
    db.commit()

    subscription = db.get(Subscription, customer.subscription_id)
    assert lifecycle.apply(db, subscription) == "suspended for budget"  # type: ignore[arg-type]  # e.g. any webhook
    db.commit()
    assert len(db.exec(select(ProvisioningAction)).all()) == 1

    budget = db.exec(select(Budget)).one()
    ensure_budget_period(db, subscription, plan, budget.reset_at + timedelta(days=30))  # type: ignore[arg-type,operator]
    assert lifecycle.apply(db, subscription) == "resuming"  # type: ignore[arg-type]
    db.commit()
    assert {a.action for a in db.exec(select(ProvisioningAction)).all()} == {"suspend", "resume"}
