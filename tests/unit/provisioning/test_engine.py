"""Engine rules with an in-memory backend: resume after a crash at any step, backoff, parking, ordering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from services.models import Instance, ProvisioningAction, ProvisioningStep
from services.models.base import utcnow
from services.provisioning import actions, engine, steps
from services.provisioning.backends import register
from services.provisioning.backends.base import Placement
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.spec import InstanceSpec
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance


@dataclass
class MemoryBackend:
    """Counts what exists; fails on demand. Stands in for a backend only to test the engine's own rules."""

    name: str = "memory"
    containers: dict[str, str] = field(default_factory=dict)
    fail: dict[str, list[Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _maybe_fail(self, method: str) -> None:
        self.calls.append(method)
        if self.fail.get(method):
            raise self.fail[method].pop(0)

    def prepare(self, spec: InstanceSpec) -> None:
        self._maybe_fail("prepare")

    def create(self, spec: InstanceSpec) -> Placement:
        self._maybe_fail("create")
        self.containers.setdefault(spec.subdomain, "created")
        return Placement(external_id=spec.subdomain, upstream=None)

    def deploy(self, spec: InstanceSpec) -> Placement:
        self._maybe_fail("deploy")
        self.containers[spec.subdomain] = "running"
        return Placement(external_id=spec.subdomain, upstream=None)

    start = deploy

    def restart(self, spec: InstanceSpec) -> Placement:
        return self.deploy(spec)

    def stop(self, spec: InstanceSpec) -> None:
        self._maybe_fail("stop")
        self.containers[spec.subdomain] = "stopped"

    def status(self, spec: InstanceSpec) -> str:
        return self.containers.get(spec.subdomain, "missing")

    def health(self, spec: InstanceSpec, upstream: str | None) -> bool:
        return self.containers.get(spec.subdomain) == "running"

    def logs(self, spec: InstanceSpec, lines: int = 100) -> str:
        return ""

    def stats(self, spec: InstanceSpec) -> dict[str, float]:
        return {}

    def destroy(self, spec: InstanceSpec) -> None:
        self._maybe_fail("destroy")
        self.containers.pop(spec.subdomain, None)


@pytest.fixture()
def memory(db: Session, settings_env: SettingsEnv) -> Iterator[tuple[MemoryBackend, list[tuple[str, float]]]]:
    settings_env.setenv("PROXY_BACKEND", "none")
    settings_env.setenv("PROVISION_RETRY_BASE_SECONDS", "2")
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "3")
    backend = MemoryBackend()
    register("memory", lambda: backend)
    scheduled: list[tuple[str, float]] = []
    engine.set_scheduler(lambda action_id, delay: scheduled.append((action_id, delay)))
    yield backend, scheduled
    engine.set_scheduler(None)


def _instance(db: Session, name: str) -> Instance:
    instance = customer_instance(db, name)
    from services.models import AppTemplate

    template = db.get(AppTemplate, instance.app_template_id)
    template.backend = "memory"  # type: ignore[union-attr]
    db.add(template)
    db.commit()
    return instance


def _request(db: Session, instance: Instance, action: str) -> str:
    row = engine.request_action(db, instance, action)
    db.commit()
    return row.id


def test_retries_back_off_exponentially_then_park(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, scheduled = memory
    backend.fail["deploy"] = [ProvisioningError("engine busy")] * 5
    instance = _instance(db, "backoff")
    action_id = _request(db, instance, actions.PROVISION)
    assert scheduled == [(action_id, 0)]  # enqueued once the request committed

    assert [engine.execute(action_id) for _ in range(3)] == ["retrying", "retrying", "parked"]
    assert [delay for _id, delay in scheduled[1:]] == [2.0, 4.0]
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    db.refresh(instance)
    assert row.status == "parked" and row.last_error == "deploy: engine busy"  # type: ignore[union-attr]
    assert instance.status == "error"
    assert engine.execute(action_id) == "parked"  # a stray delivery of a parked action does nothing


def test_permanent_error_parks_at_once(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    backend.fail["prepare"] = [PermanentError("name collision")]
    action_id = _request(db, _instance(db, "perm"), actions.PROVISION)
    assert engine.execute(action_id) == "parked"
    assert backend.containers == {}


@pytest.mark.parametrize("crash_step", actions.STEPS[actions.PROVISION])
def test_resume_after_a_crash_at_any_step_ends_in_the_same_state(
    db: Session, memory, crash_step: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    instance = _instance(db, "crashy")
    action_id = _request(db, instance, actions.PROVISION)

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
    instance = _instance(db, "order")
    first = _request(db, instance, actions.PROVISION)
    second = _request(db, instance, actions.STOP)
    assert engine.execute(second) == "queued"  # the provision came first
    assert scheduled[-1] == (second, 1.0)
    assert engine.execute(first) == "succeeded"
    assert scheduled[-1] == (second, 0)  # the finished action hands over to the next
    assert engine.execute(second) == "succeeded"
    assert backend.containers == {"order": "stopped"}


def test_requesting_the_same_waiting_action_twice_records_it_once(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    instance = _instance(db, "twice")
    assert _request(db, instance, actions.PROVISION) == _request(db, instance, actions.PROVISION)


def test_prepare_is_best_effort_and_never_holds_up_payment(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning.prewarm import prepare_for_checkout

    backend, scheduled = memory
    instance = _instance(db, "prepay")
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    backend.fail["create"] = [ProvisioningError("engine busy")]
    assert prepare_for_checkout(db, instance)
    db.commit()
    prepare_id = scheduled[-1][0]
    provision_id = _request(db, instance, actions.PROVISION)  # payment arrives while it runs
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
    first, second = _instance(db, "cart1"), _instance(db, "cart2")
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
    instance = _instance(db, "lostjob")
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    assert prepare_for_checkout(db, instance)
    db.commit()
    prepare_id = scheduled[-1][0]  # its job is lost: never executed
    provision_id = _request(db, instance, actions.PROVISION)
    assert engine.execute(provision_id) == "succeeded"  # does not wait behind it
    row = db.get(ProvisioningAction, prepare_id)
    db.refresh(row)
    assert row.status == "cancelled" and row.last_error == "superseded by provision"  # type: ignore[union-attr]
    assert engine.execute(prepare_id) == "cancelled"  # a late delivery does nothing
