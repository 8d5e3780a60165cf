"""Admin view of provisioning actions: parked ones with their errors, and the retry button behind them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services import audit
from services.models import Instance, Organization, ProvisioningAction
from services.provisioning.engine import retry_parked
from services.tenancy.scope import Actor, authorise

LIMIT = 200


def list_actions(session: Session, actor: Actor | None, *, status: str = "parked") -> list[dict[str, Any]]:
    """Actions on instances inside the actor's subtree, newest first."""
    checked = authorise(session, actor, "view", action="provisioning.list", target=("provisioning_action", "*"))
    query = (
        select(ProvisioningAction, Instance, Organization)
        .join(Instance, col(Instance.id) == col(ProvisioningAction.instance_id))
        .join(Organization, col(Organization.id) == col(Instance.organization_id))
        .where(col(Instance.organization_id).in_(checked.org_ids))
    )
    if status:
        query = query.where(col(ProvisioningAction.status) == status)
    rows = session.exec(query.order_by(col(ProvisioningAction.created_at).desc()).limit(LIMIT)).all()
    return [
        {
            "id": action.id,
            "action": action.action,
            "status": action.status,
            "error": action.last_error or "",
            "subdomain": instance.subdomain,
            "customer": org.name,
            "failures": action.failures,
            "created_at": action.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for action, instance, org in rows
    ]


def retry_action(session: Session, actor: Actor | None, action_id: str, *, ip: str = "") -> None:
    row = session.get(ProvisioningAction, action_id)
    instance = session.get(Instance, row.instance_id) if row else None
    checked = authorise(
        session,
        actor,
        "instances",
        action="provisioning.retry",
        target=("provisioning_action", action_id),
        organization_id=instance.organization_id if instance else -1,
    )
    retry_parked(session, action_id, requested_by=checked.email)
    audit.record(
        session,
        "provisioning_action.retry",
        actor_label=checked.email,
        target=("provisioning_action", action_id),
        organization_id=instance.organization_id if instance else None,
        ip=ip,
        details={"action": row.action if row else "", "subdomain": instance.subdomain if instance else ""},
    )
