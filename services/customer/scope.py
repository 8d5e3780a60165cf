"""The one check behind every customer action: the record must belong to the signed-in user's organization.

The dashboard names its instance by id (as any client could); the id is only trusted after this check, and a
refusal is written to the audit log so probing for other customers' ids leaves a trace.
"""

from __future__ import annotations

from sqlmodel import Session

from services import audit
from services.admin.scope import Forbidden
from services.models import Instance
from services.tenancy import customer_org_id

NOT_YOURS = "That instance is not in your account."


def own_instance(session: Session, user_id: int, instance_id: int, *, attempted: str, ip: str = "") -> Instance:
    org_id = customer_org_id(session, user_id) if user_id else None
    instance = session.get(Instance, instance_id) if org_id is not None else None
    if instance is None or instance.organization_id != org_id or instance.status == "deprovisioned":
        audit.record_detached(session, "customer.denied", actor_label=f"user:{user_id}",
                              target=("instance", instance_id), ip=ip,
                              details={"attempted": attempted, "actor_user_id": user_id})
        raise Forbidden(NOT_YOURS)
    return instance
