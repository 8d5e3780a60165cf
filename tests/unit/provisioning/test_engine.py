"""Engine rules with an in-memory backend: resume after a crash at any step, backoff, parking, ordering."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from services.models import ProvisioningAction, ProvisioningStep
from services.models.base import utcnow
from services.provisioning import actions, engine, steps
from services.provisioning.errors import PermanentError, ProvisioningError
from tests.support.env import SettingsEnv
from tests.support.memory_backend import memory_instance, request
from tests.support.provisioning import retry_due_now


def test_retries_back_off_exponentially_then_park(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, scheduled = memory
    backend.fail["deploy"] = [ProvisioningError("engine busy")] * 5
    instance = memory_instance(db, "backoff")
    action_id = request(db, instance, actions.PROVISION)
    assert scheduled == [(action_id, 0)]  # enqueued once the request committed

    outcomes = []
    for _ in range(3):
        outcomes.append(engine.execute(action_id))
        retry_due_now(action_id)  # the backoff's time has come
    assert outcomes == ["retrying", "retrying", "parked"]
    watchdog = engine.lease().total_seconds()  # each claim also schedules a look after its lease would end
    assert [delay for _id, delay in scheduled[1:] if delay < watchdog] == [2.0, 4.0]
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    db.refresh(instance)
    assert row.status == "parked" and row.last_error == "deploy: engine busy"  # type: ignore[union-attr]
    assert instance.status == "error"
    assert engine.execute(action_id) == "parked"  # a stray delivery of a parked action does nothing


def test_permanent_error_parks_at_once(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    backend.fail["prepare"] = [PermanentError("name collision")]
    action_id = request(db, memory_instance(db, "perm"), actions.PROVISION)
    assert engine.execute(action_id) == "parked"
    assert backend.containers == {}


@pytest.mark.parametrize("crash_step", actions.STEPS[actions.PROVISION])
def test_resume_after_a_crash_at_any_step_ends_in_the_same_state(
    db: Session, memory, crash_step: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    instance = memory_instance(db, "crashy")
    action_id = request(db, instance, actions.PROVISION)

    class WorkerDied(BaseException):
        """Not an Exception: like SIGKILL, nothing in the engine gets to record it."""

    original = steps.STEP_FUNCTIONS[crash_step]

    def die(ctx: steps.StepContext) -> None:
        original(ctx)  # the step's effect happened, then the worker died before recording success
        raise WorkerDied

    monkeypatch.setitem(steps.STEP_FUNCTIONS, crash_step, die)
    with pytest.raises(WorkerDied):
        engine.execute(action_id)
    monkeypatch.setitem(steps.STEP_FUNCTIONS, crash_step, original)

    calls_before = list(backend.calls)
    assert engine.execute(action_id) == "running"  # lease still held: a second worker must not start it
    assert backend.calls == calls_before
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert row.status == "running"  # type: ignore[union-attr]
    row.locked_until = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    db.add(row)
    db.commit()

    assert engine.execute(action_id) == "succeeded"
    db.refresh(instance)
    assert instance.status == "running" and backend.containers == {"crashy": "running"}
    records = db.exec(
        select(ProvisioningStep).where(ProvisioningStep.action_id == action_id, ProvisioningStep.step == crash_step)
    ).all()
    assert [r.status for r in records] == ["interrupted", "succeeded"]
    assert instance.credentials_encrypted is not None


def test_a_second_action_waits_for_the_first(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, scheduled = memory
    instance = memory_instance(db, "order")
    first = request(db, instance, actions.PROVISION)
    second = request(db, instance, actions.STOP)
    assert engine.execute(second) == "queued"  # the provision came first
    assert scheduled[-1] == (second, 1.0)
    assert engine.execute(first) == "succeeded"
    assert scheduled[-1] == (second, 0)  # the finished action hands over to the next
    assert engine.execute(second) == "succeeded"
    assert backend.containers == {"order": "stopped"}


def test_requesting_the_same_waiting_action_twice_records_it_once(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    instance = memory_instance(db, "twice")
    assert request(db, instance, actions.PROVISION) == request(db, instance, actions.PROVISION)


def test_prepare_is_best_effort_and_never_holds_up_payment(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning.prewarm import prepare_for_checkout

    backend, scheduled = memory
    instance = memory_instance(db, "prepay")
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    backend.fail["create"] = [ProvisioningError("engine busy")]
    assert prepare_for_checkout(db, instance)
    db.commit()
    prepare_id = scheduled[-1][0]
    provision_id = request(db, instance, actions.PROVISION)  # payment arrives while it runs
    assert engine.execute(prepare_id) == "cancelled"
    db.refresh(instance)
    assert instance.status == "provisioning"  # a failed preparation never marks the instance as broken
    assert scheduled[-1] == (provision_id, 0)  # and the provision starts right after
    assert engine.execute(provision_id) == "succeeded"
    assert backend.containers["prepay"] == "running"


def test_prepare_is_bounded_so_unpaid_signups_cannot_use_up_the_engine(
    db: Session, memory, settings_env: SettingsEnv
) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning.prewarm import prepare_for_checkout

    settings_env.setenv("PROVISION_PREWARM_MAX", "1")
    first, second = memory_instance(db, "cart1"), memory_instance(db, "cart2")
    for instance in (first, second):
        instance.status = "awaiting_payment"
        db.add(instance)
    db.commit()
    assert prepare_for_checkout(db, first)
    db.commit()
    assert not prepare_for_checkout(db, second)
    settings_env.setenv("PROVISION_PREWARM", "false")
    settings_env.setenv("PROVISION_PREWARM_MAX", "10")
    assert not prepare_for_checkout(db, second)


def test_a_preparation_that_never_started_is_superseded_by_payment(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning.prewarm import prepare_for_checkout

    _backend, scheduled = memory
    instance = memory_instance(db, "lostjob")
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    assert prepare_for_checkout(db, instance)
    db.commit()
    prepare_id = scheduled[-1][0]  # its job is lost: never executed
    provision_id = request(db, instance, actions.PROVISION)
    assert engine.execute(provision_id) == "succeeded"  # does not wait behind it
    row = db.get(ProvisioningAction, prepare_id)
    db.refresh(row)
    assert row.status == "cancelled" and row.last_error == "superseded by provision"  # type: ignore[union-attr]
    assert engine.execute(prepare_id) == "cancelled"  # a late delivery does nothing


@pytest.mark.parametrize("observed", ["stopped", "missing"])
def test_the_reconciler_never_starts_an_instance_nobody_has_paid_for(db: Session, memory, observed: str) -> None:  # type: ignore[no-untyped-def]
    """A paid plan's instance is prepared (created, not started) while its checkout is open; the reconciler sees
    a stopped instance that should run, but starting it before payment would be free hosting."""
    from services.provisioning.reconcile import reconcile

    backend, _scheduled = memory
    instance = memory_instance(db, f"unpaid-{observed}")
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    if observed == "stopped":  # prepared while the customer is on the checkout page: created, not started
        assert engine.execute(request(db, instance, actions.PREPARE)) == "succeeded"
        backend.containers[instance.subdomain] = "stopped"
    else:
        from services.provisioning.credentials import ensure_credentials

        ensure_credentials(db, instance)  # its spec renders: the reconciler gets as far as asking the backend
        db.commit()
    findings = reconcile(db)
    db.commit()
    assert [f for f in findings if f.subdomain == instance.subdomain and f.outcome == "repairing"] == []
    requested = db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).all()
    assert [a.action for a in requested if a.action != actions.PREPARE] == []
    db.refresh(instance)
    assert instance.status == "awaiting_payment"  # the payment's webhook provisions it, nothing else
