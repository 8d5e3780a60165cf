"""Compare what each instance should be with what its backend reports; repair or flag the difference."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from services.models import Instance, ProvisioningAction
from services.models.base import key, utcnow
from services.provisioning import actions, engine
from services.provisioning.backends import get_backend
from services.provisioning.errors import ProvisioningError
from services.provisioning.prewarm import AWAITING as AWAITING_PAYMENT
from services.provisioning.spec import build_spec

log = logging.getLogger(__name__)

STUCK_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Finding:
    subdomain: str
    desired: str
    observed: str
    outcome: str  # ok | repairing | flagged | busy

    def __str__(self) -> str:
        return f"{self.subdomain}: desired {self.desired}, observed {self.observed} -> {self.outcome}"


def resume_interrupted(session: Session) -> int:
    """Actions whose worker died (lease expired) or whose scheduled retry was lost get queued again."""
    now = utcnow()
    rows = session.exec(
        select(ProvisioningAction).where(col(ProvisioningAction.status).in_(("running", "retrying", "queued")))
    ).all()
    resumed = 0
    for row in rows:
        lost_lease = row.status == "running" and row.locked_until is not None and row.locked_until < now
        lost_retry = (
            row.status == "retrying" and row.next_attempt_at is not None and row.next_attempt_at < now - STUCK_GRACE
        )
        lost_queue = row.status == "queued" and row.created_at < now - STUCK_GRACE
        if lost_lease or lost_retry or lost_queue:
            engine.enqueue(row.id)
            resumed += 1
    return resumed


def reconcile(session: Session) -> list[Finding]:
    findings: list[Finding] = []
    instances = session.exec(
        select(Instance)
        .where(col(Instance.desired_state).in_(("running", "stopped", "suspended")))
        # an instance waiting for its payment runs only once the payment's webhook provisions it: starting one
        # that was prepared while its checkout was open would be hosting nobody has paid for
        .where(col(Instance.status) != AWAITING_PAYMENT)
        .execution_options(populate_existing=True)  # the engine changes instances in sessions of its own
    ).all()
    for instance in instances:
        if engine.active_action(session, key(instance)) is not None:
            findings.append(Finding(instance.subdomain, instance.desired_state, instance.status, "busy"))
            continue
        try:
            spec = build_spec(session, instance)
            observed = get_backend(spec.backend).status(spec)
        except ProvisioningError as exc:
            findings.append(Finding(instance.subdomain, instance.desired_state, f"error: {exc}", "flagged"))
            continue
        findings.append(_repair(session, instance, observed))
    return findings


def _repair(session: Session, instance: Instance, observed: str) -> Finding:
    desired = instance.desired_state
    if observed == "unknown":
        return Finding(instance.subdomain, desired, observed, "flagged")
    if desired == "running" and observed == "missing":
        engine.request_action(session, instance, actions.PROVISION, requested_by="reconciler")
        return Finding(instance.subdomain, desired, observed, "repairing")
    if desired == "running" and observed in ("stopped", "failed"):
        engine.request_action(session, instance, actions.START, requested_by="reconciler")
        return Finding(instance.subdomain, desired, observed, "repairing")
    if desired in ("stopped", "suspended") and observed == "running":
        action = actions.SUSPEND if desired == "suspended" else actions.STOP
        engine.request_action(session, instance, action, requested_by="reconciler")
        return Finding(instance.subdomain, desired, observed, "repairing")
    if instance.status != desired:  # backend agrees with the wish; the recorded status was stale
        instance.status = desired
        session.add(instance)
    return Finding(instance.subdomain, desired, observed, "ok")
