"""Compare what each instance should be with what its backend reports; repair or flag the difference."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from services.models import AppTemplate, Instance, ProvisioningAction, Server
from services.models.base import key, utcnow
from services.ops.history import record_checks
from services.provisioning import actions, engine
from services.provisioning.backends import get_backend
from services.provisioning.errors import ProvisioningError
from services.provisioning.prewarm import AWAITING as AWAITING_PAYMENT
from services.provisioning.spec import InstanceSpec, identity_spec, server_ref

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
    """Every instance that should exist, compared with its backend: read in bulk (each instance's identity, each
    backend asked once where it can list its instances), so a pass over 10,000 instances takes a fraction of a
    second of the consumer that also sends webhooks (bench/api.py)."""
    findings: list[Finding] = []
    instances = session.exec(
        select(Instance)
        .where(col(Instance.desired_state).in_(("running", "stopped", "suspended")))
        # an instance waiting for its payment runs only once the payment's webhook provisions it: starting one
        # that was prepared while its checkout was open would be hosting nobody has paid for
        .where(col(Instance.status) != AWAITING_PAYMENT)
        .execution_options(populate_existing=True)  # the engine changes instances in sessions of its own
    ).all()
    busy = _busy(session)
    backends = {i: b for i, b in session.exec(select(col(AppTemplate.id), col(AppTemplate.backend))).all() if i}
    servers = {key(s): server_ref(session, key(s)) for s in session.exec(select(Server)).all()}
    specs: dict[int, InstanceSpec] = {}
    for instance in instances:
        if key(instance) in busy:
            findings.append(Finding(instance.subdomain, instance.desired_state, instance.status, "busy"))
            continue
        backend = backends.get(instance.app_template_id or 0)
        if backend is None:
            error = f"error: Instance {instance.subdomain} has no app template."
            findings.append(Finding(instance.subdomain, instance.desired_state, error, "flagged"))
            continue
        specs[key(instance)] = identity_spec(instance, backend, servers.get(instance.server_id or 0))
    observed = _observe(list(specs.values()))
    record_checks(session, _checks(instances, observed))
    for instance in instances:
        seen = observed.get(key(instance))
        if seen is None:
            continue
        if seen.startswith("error: "):
            findings.append(Finding(instance.subdomain, instance.desired_state, seen, "flagged"))
        else:
            findings.append(_repair(session, instance, seen))
    return findings


def _checks(instances: Sequence[Instance], observed: dict[int, str]) -> dict[int, bool]:
    """Each answer about an instance meant to run is a check of its uptime (services/ops/history.py)."""
    checks: dict[int, bool] = {}
    for instance in instances:
        seen = observed.get(key(instance))
        if seen is None or instance.desired_state != "running":
            continue
        if seen.startswith("error: "):
            if instance.host_unreachable:  # its customers cannot reach it either
                checks[key(instance)] = False
            continue
        checks[key(instance)] = seen == "running"
    return checks


def _busy(session: Session) -> set[int]:
    """Instances with an action under way: the engine is changing them, the reconciler leaves them alone."""
    rows = session.exec(
        select(col(ProvisioningAction.instance_id)).where(col(ProvisioningAction.status).in_(actions.ACTIVE_STATUSES))
    ).all()
    return {int(i) for i in rows if i is not None}


def _observe(specs: list[InstanceSpec]) -> dict[int, str]:
    """Each instance's state as its backend reports it (in one listing where the backend has `statuses`), or
    "error: ..." when it could not be asked."""
    by_backend: dict[str, list[InstanceSpec]] = {}
    for spec in specs:
        by_backend.setdefault(spec.backend, []).append(spec)
    observed: dict[int, str] = {}
    for name, group in by_backend.items():
        try:
            backend = get_backend(name)
        except ProvisioningError as exc:
            observed.update(dict.fromkeys((s.instance_id for s in group), f"error: {exc}"))
            continue
        many = getattr(backend, "statuses", None)
        if many is not None:
            observed.update(many(group))
            continue
        for spec in group:
            try:
                observed[spec.instance_id] = backend.status(spec)
            except ProvisioningError as exc:
                observed[spec.instance_id] = f"error: {exc}"
    return observed


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
