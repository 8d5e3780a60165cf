"""The customer side of the one scoping function: a record named by id must be the customer's own.

The dashboard names its instance by id (as any client could); the id is only trusted after
`services.tenancy.scope.authorise_customer` has checked it against the customer's organization and role (and,
while staff impersonate the customer, against the staff member's own role). Refusals are audited.
"""

from __future__ import annotations

from sqlmodel import Session

from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import Instance
from services.models.base import key
from services.provisioning import engine
from services.tenancy.scope import Customer, authorise_customer


def own_instance(
    session: Session, who: Customer | None, instance_id: int, *, capability: str, attempted: str, ip: str = ""
) -> Instance:
    instance = session.get(Instance, instance_id)
    organization_id = instance.organization_id if instance is not None and instance.status != "deprovisioned" else None
    authorise_customer(
        session,
        who,
        capability,
        action=attempted,
        target=("instance", instance_id),
        organization_id=organization_id,
        ip=ip,
    )
    assert instance is not None
    return instance


def own_organization(session: Session, who: Customer | None, capability: str, *, attempted: str, ip: str = "") -> int:
    """The customer's organization id, once the customer (and any impersonator) may do `capability` there."""
    organization_id = who.organization_id if who is not None else None
    authorise_customer(
        session,
        who,
        capability,
        action=attempted,
        target=("organization", organization_id or "-"),
        organization_id=organization_id,
        ip=ip,
    )
    assert organization_id is not None
    return organization_id


BUSY = N_("Another action is still running on your instance. Wait for it to finish.")


def refuse_while_busy(session: Session, instance: Instance) -> None:
    """One action at a time per instance: a second one asked for meanwhile is refused, and nothing changes."""
    if engine.active_action(session, key(instance)) is not None:
        raise ValidationFailed.single("", BUSY)


def requested_by(who: Customer) -> str:
    """Who asked, as the provisioning action records it: the customer, or the staff member acting for them."""
    if who.impersonator is not None:
        return f"admin:{who.impersonator.email} as customer:{who.user_id}"
    return f"customer:{who.user_id}"
