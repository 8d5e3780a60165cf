"""A running action's lease: renewed while its worker lives, lost to another worker only after its worker died,
and watched so that a dead worker's action resumes a moment after the lease runs out (not 10 minutes later)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select, update

from services.db import session_scope
from services.models import ProvisioningAction, ProvisioningStep
from services.models.base import utcnow
from services.provisioning import actions, engine, steps
from services.provisioning.errors import ProvisioningError
from tests.support.env import SettingsEnv
from tests.support.memory_backend import MemoryBackend, memory_instance, request

LEASE_SECONDS = 3.0


@pytest.fixture()
def short_lease(memory, settings_env: SettingsEnv) -> Iterator[tuple[MemoryBackend, list[tuple[str, float]]]]:  # type: ignore[no-untyped-def]
    settings_env.setenv("PROVISION_LEASE_SECONDS", str(LEASE_SECONDS))
    yield memory


def _slow_step(monkeypatch: pytest.MonkeyPatch, step: str, seconds: float, during=None) -> None:  # type: ignore[no-untyped-def]
    original = steps.STEP_FUNCTIONS[step]

    def slow(ctx: steps.StepContext) -> None:
        deadline = time.monotonic() + seconds
        if during is not None:
            during()
        while time.monotonic() < deadline:
            time.sleep(0.05)
        original(ctx)

    monkeypatch.setitem(steps.STEP_FUNCTIONS, step, slow)


def test_a_step_longer_than_the_lease_keeps_it_and_no_second_worker_starts(
    db: Session, short_lease, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    backend, _ = short_lease
    action_id = request(db, memory_instance(db, "slowpoke"), actions.PROVISION)
    _slow_step(monkeypatch, "deploy", LEASE_SECONDS + 1.5)
    first: list[str] = []
    worker = threading.Thread(target=lambda: first.append(engine.execute(action_id)))
    worker.start()
    time.sleep(LEASE_SECONDS + 0.7)  # past the first lease: only a renewal keeps it
    assert engine.execute(action_id) == "running"  # a second worker finds it held and does nothing
    worker.join(timeout=30)
    assert first == ["succeeded"]
    attempts = db.exec(select(ProvisioningStep.step).where(ProvisioningStep.action_id == action_id)).all()
    assert sorted(attempts) == sorted(actions.STEPS[actions.PROVISION])  # every step once: nothing ran twice
    assert backend.calls.count("deploy") == 1


def test_a_worker_that_lost_its_lease_stops_after_its_step(
    db: Session, short_lease, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _backend, _ = short_lease
    action_id = request(db, memory_instance(db, "overtaken"), actions.PROVISION)

    def another_worker_takes_over() -> None:  # as if our lease had run out and someone else claimed it
        with session_scope() as session:
            session.exec(
                update(ProvisioningAction)
                .where(col(ProvisioningAction.id) == action_id)
                .values(locked_until=utcnow() + timedelta(minutes=5))
            )

    first_step = actions.STEPS[actions.PROVISION][0]
    _slow_step(monkeypatch, first_step, LEASE_SECONDS / 3 + 0.8, during=another_worker_takes_over)
    assert engine.execute(action_id) == "running"
    done = db.exec(select(ProvisioningStep.step).where(ProvisioningStep.action_id == action_id)).all()
    assert done == [first_step]  # it finished the step it was in, and started no other
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert row.status == "running" and row.finished_at is None  # type: ignore[union-attr]  # the new owner's to end


def test_every_claim_is_watched_so_a_dead_workers_action_resumes_soon_after_its_lease(
    db: Session, short_lease, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    backend, scheduled = short_lease
    instance = memory_instance(db, "orphan")
    action_id = request(db, instance, actions.PROVISION)

    class WorkerDied(BaseException):
        """Like SIGKILL: nothing in the engine gets to record it."""

    def die(ctx: steps.StepContext) -> None:
        raise WorkerDied

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "deploy", die)
    with pytest.raises(WorkerDied):
        engine.execute(action_id)
    monkeypatch.undo()
    watch = [delay for scheduled_id, delay in scheduled if scheduled_id == action_id and delay > 0]
    assert watch and LEASE_SECONDS <= watch[-1] <= LEASE_SECONDS + engine.WATCHDOG_SLACK_SECONDS + 0.5

    assert engine.execute(action_id) == "running"  # the watchdog, early: the lease still holds, look again later
    assert scheduled[-1][0] == action_id and scheduled[-1][1] > 0
    time.sleep(LEASE_SECONDS + 0.1)
    assert engine.execute(action_id) == "succeeded"  # the watchdog after the lease ran out resumes it
    assert backend.containers == {"orphan": "running"}


def test_a_watchdog_arriving_during_the_backoff_leaves_the_retry_to_its_own_time(db: Session, short_lease) -> None:  # type: ignore[no-untyped-def]
    backend, _ = short_lease
    backend.fail["deploy"] = [ProvisioningError("engine busy")] * 2
    action_id = request(db, memory_instance(db, "patient"), actions.PROVISION)
    assert engine.execute(action_id) == "retrying"  # first failure: retry in 2 s (the fixture's base)
    calls = list(backend.calls)
    assert engine.execute(action_id) == "retrying"  # the claim's watchdog, or any early delivery: nothing runs
    assert backend.calls == calls
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    row.next_attempt_at = utcnow()  # the backoff is over
    db.add(row)
    db.commit()
    assert engine.execute(action_id) == "retrying"  # second failure, counted as such
    db.refresh(row)
    assert row.failures == 2  # type: ignore[union-attr]
