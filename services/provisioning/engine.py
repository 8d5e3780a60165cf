"""The step engine: runs an action's steps in order, records every attempt, retries with backoff, parks.

Only this module changes a provisioning_action's status. It knows steps by name and backends by interface.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from services.config import get_settings
from services.db import after_commit, session_scope
from services.models import AppTemplate, Instance, ProvisioningAction, ProvisioningStep
from services.models.base import key, utcnow
from services.ops import incidents, metrics
from services.provisioning import actions
from services.provisioning.backends import get_backend
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.proxy import get_proxy
from services.provisioning.steps import STEP_FUNCTIONS, StepContext
from services.webhooks.outbox import emit

log = logging.getLogger(__name__)

WATCHDOG_SLACK_SECONDS = 2.0  # the watchdog looks a little after the lease would have run out
EARLY = timedelta(seconds=1)  # a retry that arrives this much before it is due still runs (clocks, queue timing)
Scheduler = Callable[[str, float], None]


def _no_queue(action_id: str, delay: float) -> None:
    raise RuntimeError("No job queue is connected to the provisioning engine: import services.worker first.")


class _Runner:
    """What runs actions later: the job queue (connected by provisioning/tasks.py), or a test's stand-in."""

    queue: Scheduler = staticmethod(_no_queue)
    current: Scheduler = staticmethod(_no_queue)


def use_queue(scheduler: Scheduler) -> None:
    """Connect the engine to the job queue (called once, by services/provisioning/tasks.py at import)."""
    _Runner.queue = _Runner.current = scheduler


def _scheduler(action_id: str, delay: float) -> None:
    _Runner.current(action_id, delay)


def enqueue(action_id: str, delay: float = 0) -> None:
    _scheduler(action_id, delay)


def set_scheduler(scheduler: Scheduler | None) -> None:
    """Tests drive the engine step by step; production goes through the job queue."""
    _Runner.current = scheduler or _Runner.queue


def lease() -> timedelta:
    """How long a claim on a running action lasts without renewal (PROVISION_LEASE_SECONDS).

    The worker running the action renews it every third of that (`_LeaseKeeper`); a worker that dies stops
    renewing, and the watchdog scheduled with every claim resumes the action on another worker soon after.
    """
    return timedelta(seconds=get_settings().provision_lease_seconds)


class _LeaseKeeper:
    """Renews this worker's lease on an action while its steps run, from a thread of its own.

    A renewal only extends the lease this worker set (`locked_until` still equals the last value it wrote): if
    it ever finds another value, another worker has taken the action over after our lease ran out, and `lost`
    tells the step loop to stop before the next step.
    """

    def __init__(self, action_id: str, until: Any) -> None:
        self.action_id, self.until, self.lost = action_id, until, False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{action_id[:8]}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        every = lease().total_seconds() / 3
        while not self._stopped.wait(every):
            if not self.renew():
                return

    def renew(self) -> bool:
        new_until = utcnow() + lease()
        try:
            with session_scope() as session:
                renewed = session.exec(
                    update(ProvisioningAction)
                    .where(
                        col(ProvisioningAction.id) == self.action_id,
                        col(ProvisioningAction.status) == "running",
                        col(ProvisioningAction.locked_until) == self.until,
                    )
                    .values(locked_until=new_until)
                ).rowcount
        except Exception:
            log.warning("renewing the lease of action %s failed", self.action_id, exc_info=True)
            return True
        if renewed != 1:
            log.warning("action %s: lease lost to another worker; stopping after this step", self.action_id)
            self.lost = True
            return False
        self.until = new_until
        return True


def backoff_seconds(failures: int) -> float:
    return float(get_settings().provision_retry_base_seconds * (2 ** max(0, failures - 1)))


# --- requesting -----------------------------------------------------------------------------------------------------


def request_action(
    session: Session,
    instance: Instance,
    action: str,
    requested_by: str = "system",
    params: dict[str, Any] | None = None,
) -> ProvisioningAction:
    """Record the action and run it after commit. The same action already waiting is reused, not duplicated."""
    if action not in actions.STEPS:
        raise ValueError(f"unknown action {action!r}")
    existing = session.exec(
        select(ProvisioningAction).where(
            col(ProvisioningAction.instance_id) == instance.id,
            col(ProvisioningAction.action) == action,
            col(ProvisioningAction.status) == "queued",
        )
    ).first()
    if existing is not None:
        return existing
    row = ProvisioningAction(
        id=str(uuid.uuid4()),
        instance_id=key(instance),
        action=action,
        requested_by=requested_by[:254],
        params=params or {},
    )
    session.add(row)
    instance.status = actions.STATUS_DURING[action] or instance.status
    desired = actions.DESIRED_AFTER[action]
    if desired:
        instance.desired_state = desired
    instance.updated_at = utcnow()
    session.add(instance)
    action_id = row.id
    after_commit(session, lambda: _scheduler(action_id, 0))
    return row


def active_action(session: Session, instance_id: int) -> ProvisioningAction | None:
    return session.exec(
        select(ProvisioningAction)
        .where(
            col(ProvisioningAction.instance_id) == instance_id,
            col(ProvisioningAction.status).in_(actions.ACTIVE_STATUSES),
        )
        .order_by(col(ProvisioningAction.created_at))
    ).first()


def retry_parked(session: Session, action_id: str, requested_by: str) -> ProvisioningAction:
    """An admin's retry: a new round of attempts for a parked action."""
    row = session.get(ProvisioningAction, action_id)
    if row is None or row.status != "parked":
        raise ValueError("Only a parked action can be retried.")
    row.status, row.failures, row.next_attempt_at = "queued", 0, None
    row.requested_by = f"{row.requested_by} (retried by {requested_by})"[:254]
    session.add(row)
    instance = session.get(Instance, row.instance_id)
    if instance is not None:
        instance.status = actions.STATUS_DURING[row.action] or instance.status
        session.add(instance)
    after_commit(session, lambda: _scheduler(action_id, 0))
    return row


# --- running --------------------------------------------------------------------------------------------------------


def _watch(action_id: str, until: Any) -> None:
    """Look at the action again once its lease would have run out: resumed there if its worker died."""
    delay = max(0.0, (until - utcnow()).total_seconds()) + WATCHDOG_SLACK_SECONDS
    _scheduler(action_id, delay)


def _claim(action_id: str) -> tuple[str, int, Any] | None:
    """Take the action for this worker, or return None (finished, owned by a live worker, or must wait)."""
    now = utcnow()
    with session_scope() as session:
        row = session.get(ProvisioningAction, action_id)
        if row is None or row.status not in actions.ACTIVE_STATUSES:
            log.info("action %s not run: %s", action_id, "not found" if row is None else row.status)
            return None
        if row.status == "retrying" and row.next_attempt_at is not None and row.next_attempt_at > now + EARLY:
            # an earlier claim's watchdog, or a stray delivery: the backoff stands, its own retry is scheduled
            log.info("action %s not run: its retry is due at %s", action_id, row.next_attempt_at)
            return None
        earlier = active_action(session, row.instance_id)
        if (
            earlier is not None
            and earlier.id != row.id
            and earlier.status == "queued"
            and earlier.action in actions.BEST_EFFORT
            and row.action not in actions.BEST_EFFORT
        ):
            # a preparation that never started is moot once the real action is here: this one does it all
            earlier.status, earlier.finished_at, earlier.last_error = "cancelled", now, f"superseded by {row.action}"
            session.add(earlier)
            earlier = None
        if earlier is not None and earlier.id != row.id:
            _scheduler(action_id, 1.0)  # one action per instance at a time, in order
            return None
        until = now + lease()
        claimed = session.exec(
            update(ProvisioningAction)
            .where(
                col(ProvisioningAction.id) == action_id,
                or_(col(ProvisioningAction.status) != "running", col(ProvisioningAction.locked_until) < now),
            )
            .values(status="running", locked_until=until, started_at=row.started_at or now)
        ).rowcount
        if claimed != 1:
            log.info("action %s not run: another worker holds it", action_id)
            held_until = session.exec(
                select(col(ProvisioningAction.locked_until)).where(col(ProvisioningAction.id) == action_id)
            ).first()
            if held_until is not None:
                _watch(action_id, held_until)  # the holder may still die: keep watching
            return None
        _watch(action_id, until)
        return row.action, row.instance_id, until


def execute(action_id: str) -> str:
    """Run (or resume) an action. Returns its status afterwards."""
    claim = _claim(action_id)
    if claim is None:
        with session_scope() as session:
            row = session.get(ProvisioningAction, action_id)
            return row.status if row else "missing"
    action, instance_id, until = claim
    try:
        context = _context(instance_id, action_id)
    except Exception as exc:  # noqa: BLE001 - the backend itself cannot be built: park with the reason
        return _fail(action_id, action, instance_id, "setup", exc)
    with _LeaseKeeper(action_id, until) as keeper:
        failure = _run_steps(action_id, action, instance_id, context, keeper)
    if keeper.lost:
        return "running"  # another worker resumed it after our lease ran out: its outcome is the one that counts
    if failure is not None:
        return _fail(action_id, action, instance_id, *failure)
    return _succeed(action_id, action, instance_id)


def _run_steps(
    action_id: str, action: str, instance_id: int, context: StepContext, keeper: _LeaseKeeper
) -> tuple[str, Exception] | None:
    """The action's steps not done yet, each recorded; the failed step and its error, or None when all succeeded."""
    for step in actions.STEPS[action]:
        if keeper.lost:
            return None
        if _already_done(action_id, step):
            continue
        step_id = _begin_step(action_id, action, instance_id, step)
        try:
            with metrics.Timer() as took:
                STEP_FUNCTIONS[step](context)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and decided on by _fail
            metrics.STEP_SECONDS.labels(action, step, "failed").observe(took.seconds)
            metrics.STEP_FAILURES.labels(action, step).inc()
            _end_step(step_id, "failed", _message(exc))
            return step, exc
        metrics.STEP_SECONDS.labels(action, step, "succeeded").observe(took.seconds)
        _end_step(step_id, "succeeded", None)
    return None


def _context(instance_id: int, action_id: str | None = None) -> StepContext:
    with session_scope() as session:
        instance = session.get(Instance, instance_id)
        template = session.get(AppTemplate, instance.app_template_id) if instance and instance.app_template_id else None
        backend_name = template.backend if template else (instance.backend if instance else "docker")
        row = session.get(ProvisioningAction, action_id) if action_id else None
        params = dict(row.params or {}) if row else {}
    return StepContext(instance_id=instance_id, backend=get_backend(backend_name), proxy=get_proxy(), params=params)


def _already_done(action_id: str, step: str) -> bool:
    with session_scope() as session:
        return (
            session.exec(
                select(col(ProvisioningStep.id)).where(
                    col(ProvisioningStep.action_id) == action_id,
                    col(ProvisioningStep.step) == step,
                    col(ProvisioningStep.status) == "succeeded",
                )
            ).first()
            is not None
        )


def _begin_step(action_id: str, action: str, instance_id: int, step: str) -> int:
    with session_scope() as session:
        previous = session.exec(
            select(ProvisioningStep).where(
                col(ProvisioningStep.action_id) == action_id, col(ProvisioningStep.step) == step
            )
        ).all()
        for record in previous:
            if record.status == "running":  # the worker died during this attempt
                record.status, record.finished_at = "interrupted", utcnow()
                record.message = "interrupted (worker stopped); resumed"
                session.add(record)
        record = ProvisioningStep(
            instance_id=instance_id,
            action_id=action_id,
            action=action,
            step=step,
            attempt=len(previous) + 1,
            status="running",
        )
        session.add(record)
        session.flush()
        return key(record)


def _end_step(step_id: int, status: str, message: str | None) -> None:
    with session_scope() as session:
        record = session.get(ProvisioningStep, step_id)
        if record is not None:
            record.status, record.message, record.finished_at = status, message, utcnow()
            session.add(record)


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:2000]


def _fail(action_id: str, action: str, instance_id: int, step: str, exc: Exception) -> str:
    """Retry with backoff, or park when the error is permanent or the attempts are used up."""
    settings = get_settings()
    permanent = isinstance(exc, PermanentError)
    log.warning("provisioning %s of instance %s failed at %s: %s", action, instance_id, step, _message(exc))
    if not isinstance(exc, ProvisioningError):  # a bug, not an outside cause: keep the traceback for us
        log.error("unexpected error in step %s:\n%s", step, "".join(traceback.format_exception(exc)))
    with session_scope() as session:
        row = session.get(ProvisioningAction, action_id)
        instance = session.get(Instance, instance_id)
        assert row is not None
        row.failures += 1
        row.last_error = f"{step}: {_message(exc)}"
        row.locked_until = None
        if action in actions.BEST_EFFORT:  # nobody waits for it: give up quietly, let the next action run
            row.status, row.next_attempt_at, row.finished_at = "cancelled", None, utcnow()
            session.add(row)
            _schedule_following(session, instance_id, action_id)
            return "cancelled"
        if permanent or row.failures >= settings.provision_max_attempts:
            row.status, row.next_attempt_at, row.finished_at = "parked", None, utcnow()
            if instance is not None:
                instance.status, instance.last_error = "error", row.last_error
                session.add(instance)
                _announce(session, instance, "instance.parked", action, row.last_error)
            session.add(row)
            incidents.raise_incident(
                session,
                incidents.ACTION_PARKED,
                action_id,
                title=f"{action} of {instance.subdomain if instance else f'instance {instance_id}'} is parked",
                detail=f"{row.last_error}\nAttempts: {row.failures}. Retry it in the console once the cause is fixed.",
                organization_id=instance.organization_id if instance else None,
            )
            return "parked"
        delay = backoff_seconds(row.failures)
        row.status, row.next_attempt_at = "retrying", utcnow() + timedelta(seconds=delay)
        session.add(row)
        if instance is not None:
            _announce(session, instance, "instance.failed", action, row.last_error, retry_in=delay)
        after_commit(session, lambda: _scheduler(action_id, delay))
    return "retrying"


def _succeed(action_id: str, action: str, instance_id: int) -> str:
    with session_scope() as session:
        row = session.get(ProvisioningAction, action_id)
        instance = session.get(Instance, instance_id)
        assert row is not None
        row.status, row.finished_at, row.locked_until, row.last_error = "succeeded", utcnow(), None, None
        session.add(row)
        incidents.resolve_incident(session, incidents.ACTION_PARKED, action_id)  # an admin's retry went through
        if instance is not None:
            instance.status = actions.STATUS_AFTER[action] or instance.status
            instance.last_error, instance.updated_at = None, utcnow()
            session.add(instance)
            if action in ANNOUNCED:
                _announce(session, instance, ANNOUNCED[action], action, None)
        _schedule_following(session, instance_id, action_id)
    return "succeeded"


# what a finished action tells the customer's (and their sellers') webhook endpoints
ANNOUNCED = {
    actions.PROVISION: "instance.provisioned",
    actions.START: "instance.started",
    actions.RESUME: "instance.started",
    actions.RESTART: "instance.started",
    actions.STOP: "instance.stopped",
    actions.SUSPEND: "instance.stopped",
}


def _announce(
    session: Session, instance: Instance, event_type: str, action: str, error: str | None, retry_in: float = 0
) -> None:
    data: dict[str, Any] = {
        "instance_id": instance.id,
        "subdomain": instance.subdomain,
        "status": instance.status,
        "action": action,
    }
    if error:
        data["error"] = error
    if retry_in:
        data["retry_in_seconds"] = round(retry_in)
    emit(session, instance.organization_id, event_type, data)


def _schedule_following(session: Session, instance_id: int, action_id: str) -> None:
    """The next queued action of the instance starts as soon as this one has ended."""
    following = session.exec(
        select(col(ProvisioningAction.id))
        .where(
            col(ProvisioningAction.instance_id) == instance_id,
            col(ProvisioningAction.id) != action_id,
            col(ProvisioningAction.status) == "queued",
        )
        .order_by(col(ProvisioningAction.created_at))
    ).first()
    if following:
        after_commit(session, lambda: _scheduler(following, 0))
