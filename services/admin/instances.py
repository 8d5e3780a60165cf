"""Instance actions from the console: start, stop, restart, redeploy, logs; one at a time or a selection.

Support staff may act on instances (not on billing); every action is authorised against the instance's
organization, refused attempts are audited, and the action itself goes through the provisioning engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from services import audit
from services.models import Instance
from services.provisioning import actions, engine
from services.provisioning.backends import get_backend
from services.provisioning.errors import ProvisioningError
from services.provisioning.spec import build_spec
from services.tenancy.scope import Actor, Forbidden, authorise

ADMIN_ACTIONS = {
    "start": actions.START,
    "stop": actions.STOP,
    "restart": actions.RESTART,
    "redeploy": actions.APPLY_LIMITS,
}


def _instance(session: Session, actor: Actor | None, instance_id: int, attempted: str) -> tuple[Instance, Actor]:
    instance = session.get(Instance, instance_id)
    checked = authorise(
        session,
        actor,
        "instances",
        action=attempted,
        target=("instance", instance_id),
        organization_id=instance.organization_id if instance else -1,
    )
    assert instance is not None
    return instance, checked


def instance_action(session: Session, actor: Actor | None, instance_id: int, action: str, *, ip: str = "") -> str:
    if action not in ADMIN_ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    instance, checked = _instance(session, actor, instance_id, f"instance.{action}")
    if instance.status in ("deprovisioned", "awaiting_payment", "pending"):
        raise ValueError(f"{instance.subdomain} is {instance.status}: there is nothing to {action}.")
    row = engine.request_action(session, instance, ADMIN_ACTIONS[action], requested_by=f"admin:{checked.email}")
    audit.record(
        session,
        f"admin.instance.{action}",
        actor_label=checked.email,
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"subdomain": instance.subdomain},
    )
    return row.id


@dataclass(frozen=True)
class BulkResult:
    queued: int
    refused: list[str]


def bulk_action(
    session: Session, actor: Actor | None, instance_ids: list[int], action: str, *, ip: str = ""
) -> BulkResult:
    """The same action on a selection: what may not be done is refused one by one, the rest goes ahead."""
    queued, refused = 0, []
    for instance_id in instance_ids:
        try:
            with session.begin_nested():
                instance_action(session, actor, instance_id, action, ip=ip)
            queued += 1
        except (Forbidden, ValueError) as exc:
            refused.append(f"{instance_id}: {exc}")
    return BulkResult(queued=queued, refused=refused)


def instance_logs(session: Session, actor: Actor | None, instance_id: int, lines: int = 200) -> str:
    instance, _checked = _instance(session, actor, instance_id, "instance.logs")
    try:
        spec = build_spec(session, instance)
        return get_backend(spec.backend).logs(spec, lines) or "(no output yet)"
    except ProvisioningError as exc:
        return f"The logs cannot be read right now: {exc}"


def instance_health(session: Session, actor: Actor | None, instance_id: int) -> dict[str, str]:
    """What the backend reports now: state, whether the health check answers, CPU and memory."""
    instance, _checked = _instance(session, actor, instance_id, "instance.health")
    try:
        spec = build_spec(session, instance)
        backend = get_backend(spec.backend)
        observed = backend.status(spec)
        healthy = observed == "running" and backend.health(spec, spec.upstream)
        stats = backend.stats(spec) if observed == "running" else {}
    except ProvisioningError as exc:
        return {"observed": f"error: {exc}", "healthy": "no", "cpu": "", "memory": ""}
    memory = stats.get("memory_bytes")
    return {
        "observed": observed,
        "healthy": "yes" if healthy else "no",
        "cpu": f"{stats['cpu_percent']:.1f} %" if "cpu_percent" in stats else "",
        "memory": f"{memory / 1024 / 1024:.1f} MB" if memory is not None else "",
    }
