"""Uptime per day from the reconciler's checks, and the customer's history: the 30-day strip and the timeline of
the latest action, each step with its start and duration."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from services.customer.history import instance_history
from services.models import ProvisioningStep, UptimeDay
from services.models.base import utcnow
from services.ops.history import UPTIME_DAYS, record_checks, uptime_strip
from services.provisioning import actions, engine
from services.provisioning.reconcile import reconcile
from tests.support import tenants
from tests.support.memory_backend import memory_instance, request


def _today(db: Session, instance_id: int) -> UptimeDay:
    db.expire_all()
    return db.exec(select(UptimeDay).where(UptimeDay.instance_id == instance_id)).one()


def test_each_reconciler_pass_is_one_check_up_when_running(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, _scheduled = memory
    instance = memory_instance(db, "watched")
    assert engine.execute(request(db, instance, actions.PROVISION)) == "succeeded"
    reconcile(db)
    db.commit()
    row = _today(db, instance.id)  # type: ignore[arg-type]
    assert (row.checks, row.up) == (1, 1)

    backend.containers[instance.subdomain] = "stopped"  # it crashed: a check that found it down
    reconcile(db)
    db.commit()
    row = _today(db, instance.id)  # type: ignore[arg-type]
    assert (row.checks, row.up) == (2, 1)

    db.refresh(instance)
    instance.desired_state = "stopped"  # stopped on purpose: not downtime, and no check at all
    db.add(instance)
    db.commit()
    for action in db.exec(select(engine.ProvisioningAction)).all():  # the repair the last pass asked for
        action.status = "succeeded"
        db.add(action)
    db.commit()
    reconcile(db)
    db.commit()
    assert (_today(db, instance.id).checks) == 2  # type: ignore[arg-type]


def test_the_strip_has_thirty_days_with_each_days_state(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    instance = memory_instance(db, "striped")
    now = utcnow()
    record_checks(db, {instance.id: True}, now - timedelta(days=2))  # type: ignore[dict-item]
    record_checks(db, {instance.id: True}, now - timedelta(days=1))  # type: ignore[dict-item]
    record_checks(db, {instance.id: False}, now - timedelta(days=1))  # type: ignore[dict-item]
    record_checks(db, {instance.id: False}, now)  # type: ignore[dict-item]
    db.commit()
    strip = uptime_strip(db, instance.id)  # type: ignore[arg-type]
    assert len(strip) == UPTIME_DAYS and strip[-1].day == now.date()
    assert [m.state for m in strip[-4:]] == ["none", "up", "degraded", "down"]

    view = instance_history(db, tenants.customer(db, "striped"), instance.id)  # type: ignore[arg-type]
    assert len(view.uptime) == UPTIME_DAYS
    assert (
        view.uptime[-2]["percent"] == "50.00%"
        and "down part of the day, 50.00% of 2 checks" in view.uptime[-2]["label"]
    )
    assert view.uptime[0]["state"] == "none" and view.uptime[0]["label"].endswith("not checked")
    assert view.uptime_percent == "50.00%"  # 2 of 4 checks, over the days that had any


def test_the_timeline_is_the_latest_actions_steps_with_times(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    _backend, _scheduled = memory
    instance = memory_instance(db, "timed")
    who = tenants.customer(db, "timed")
    assert instance_history(db, who, instance.id).steps == []  # type: ignore[arg-type]
    action_id = request(db, instance, actions.PROVISION)
    assert engine.execute(action_id) == "succeeded"
    steps = db.exec(select(ProvisioningStep).where(ProvisioningStep.action_id == action_id)).all()
    view = instance_history(db, who, instance.id)  # type: ignore[arg-type]
    assert view.action == "Setting up your instance" and view.action_status == "succeeded"
    assert [s["step"] for s in view.steps][:2] == ["Preparing configuration", "Choosing a server"]
    assert len(view.steps) == len(steps) and all(s["status"] == "succeeded" for s in view.steps)
    assert view.steps[0]["started"] == f"{steps[0].started_at:%H:%M:%S}" and view.steps[0]["took"].endswith(" s")
    assert max(int(s["width"].rstrip("%")) for s in view.steps) == 100  # the longest step spans the bar
