"""A plan edit reaches its existing subscribers: new limits roll out to the running instances a batch at a time
with progress in the console; a new price reaches existing subscriptions from their next period, only when the
editor chooses so, each owner told by e-mail first; an edit that leaves fields out keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.admin import plans
from services.billing import plan_rollout
from services.models import Organization, Plan, PlanRollout, ProvisioningAction, Subscription
from tests.support.factories import customer_instance
from tests.support.mailbox import outbox_messages, text_of
from tests.support.tenants import actor as _actor

PLAN = {
    "name": "Rolling",
    "slug": "rolling",
    "price_cents": 2900,
    "stripe_price_id": "price_rolling_v1",
    "budget_included_micros": 20_000_000,
    "limits": {"memory_mb": 512, "cpus": 1},
    "description": "For rolling out",
    "retention_days": 45,
}


def _subscribed_plan(db: Session, tree: dict, instances: int) -> tuple[Plan, list[int]]:
    admin = _actor(db, tree, "a-admin")
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    plan = plans.save_plan(db, admin, PLAN, organization_id=reseller.id)  # type: ignore[arg-type]
    ids = []
    for n in range(instances):
        instance = customer_instance(db, f"roll{n}", parent=reseller)
        subscription = db.get(Subscription, instance.subscription_id)
        assert subscription is not None
        subscription.plan_id, instance.status = plan.id, "running"  # type: ignore[assignment]
        db.add_all([subscription, instance])
        ids.append(instance.id)
    db.commit()
    return plan, ids  # type: ignore[return-value]


def _finish(db: Session, status: str, count: int) -> None:
    queued = select(ProvisioningAction).where(
        ProvisioningAction.status == "queued", ProvisioningAction.action == "apply_limits"
    )
    for action in db.exec(queued).all()[:count]:
        action.status = status
        db.add(action)
    db.commit()


def test_new_limits_roll_out_a_batch_at_a_time_and_failures_are_counted(
    db: Session, tree: dict, scheduled_actions: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_rollout, "ROLLING_BATCH", 2)
    plan, instance_ids = _subscribed_plan(db, tree, 5)
    admin = _actor(db, tree, "a-admin")
    plans.save_plan(db, admin, {**PLAN, "limits": {"memory_mb": 1024, "cpus": 2}}, organization_id=0, plan_id=plan.id)
    db.commit()
    rollout = db.exec(select(PlanRollout)).one()
    assert (rollout.kind, rollout.total, len(rollout.running), len(rollout.queue)) == ("limits", 5, 2, 3)
    limits_actions = db.exec(select(ProvisioningAction).where(ProvisioningAction.action == "apply_limits")).all()
    assert len(limits_actions) == 2  # two at a time, never all at once
    _finish(db, "succeeded", 1)
    plan_rollout.advance_rollouts(db)
    db.commit()
    db.refresh(rollout)
    assert (rollout.done, len(rollout.running), len(rollout.queue)) == (1, 2, 2)
    for status in ("failed", "succeeded", "succeeded", "succeeded", "succeeded"):
        _finish(db, status, 1)
        plan_rollout.advance_rollouts(db)
        db.commit()
    db.refresh(rollout)
    assert (rollout.done, rollout.failed, rollout.finished_at is not None) == (4, 1, True)
    [row] = plans.list_rollouts(db, admin)
    assert (row["plan"], row["progress"], row["percent"], row["failed"], row["state"]) == (
        "Rolling",
        "5 of 5",
        "100",
        "1",
        "done",
    )
    touched = {
        a.instance_id
        for a in db.exec(select(ProvisioningAction).where(ProvisioningAction.action == "apply_limits")).all()
    }
    assert touched == set(instance_ids)


def test_an_edit_that_leaves_fields_out_keeps_them_and_a_name_change_rolls_nothing_out(
    db: Session, tree: dict, scheduled_actions: list
) -> None:
    plan, _ids = _subscribed_plan(db, tree, 2)
    admin = _actor(db, tree, "a-admin")
    plans.save_plan(
        db, admin, {"name": "Rolling Plus", "slug": "rolling", "budget": "20"}, organization_id=0, plan_id=plan.id
    )
    db.commit()
    db.refresh(plan)
    assert plan.limits == {"memory_mb": 512, "cpus": 1} and plan.retention_days == 45
    assert plan.description == "For rolling out" and plan.price_cents == 2900
    assert db.exec(select(PlanRollout)).all() == []


def test_a_new_price_reaches_existing_subscribers_only_when_chosen_and_each_owner_is_told(
    db: Session, tree: dict, outbox: Path, scheduled_actions: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, _ids = _subscribed_plan(db, tree, 3)
    subscriptions = db.exec(select(Subscription).where(Subscription.plan_id == plan.id)).all()
    for n, subscription in enumerate(subscriptions):
        subscription.stripe_subscription_id = f"sub_roll_{n}"
        db.add(subscription)
    subscriptions[2].scheduled_plan_id = 999  # chose a downgrade: keeps it
    db.commit()
    calls: list[tuple[str, str, bool]] = []

    class Stripe:
        def change_price(self, sub: str, price: str, idempotency_key: str, **kw: object) -> dict:
            calls.append((sub, price, bool(kw.get("prorate", True))))
            return {}

    monkeypatch.setattr(plan_rollout, "get_gateway", lambda: Stripe())
    admin = _actor(db, tree, "a-admin")
    plans.save_plan(db, admin, {**PLAN, "stripe_price_id": "price_rolling_v2"}, organization_id=0, plan_id=plan.id)
    db.commit()
    assert calls == [] and db.exec(select(PlanRollout)).all() == []  # not chosen: existing subscribers keep theirs
    plans.save_plan(
        db,
        admin,
        {**PLAN, "stripe_price_id": "price_rolling_v3", "price_cents": 3900, "reprice_existing": "on"},
        organization_id=0,
        plan_id=plan.id,
    )
    db.commit()
    assert calls == [("sub_roll_0", "price_rolling_v3", False), ("sub_roll_1", "price_rolling_v3", False)]
    rollout = db.exec(select(PlanRollout)).one()
    assert (rollout.kind, rollout.done, rollout.finished_at is not None) == ("price", 2, True)
    told = [m for m in outbox_messages(outbox) if "price" in m["Subject"].lower()]
    assert sorted(m["To"] for m in told) == ["roll0@example.com", "roll1@example.com"]
    assert "$39 / month" in text_of(told[0])
