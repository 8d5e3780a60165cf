"""The shared tenant tree of the unit tests: two resellers (one with a sub-reseller), their staff and customers."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session, select

from services.accounts.sessions import create_session
from services.crypto import hash_token
from services.models import Organization, OrgKind, ProvisioningAction, Role, User
from services.provisioning import engine
from services.tenancy.scope import Actor, Customer, resolve_actor, resolve_customer
from tests.support.factories import customer_instance, staff_member


def _org(db: Session, slug: str, kind: str, parent: Organization | None) -> Organization:
    org = Organization(name=slug.title(), slug=slug, kind=kind, parent_id=parent.id if parent else None)
    db.add(org)
    db.flush()
    return org


def _parked(db: Session, instance_id: int) -> ProvisioningAction:
    action = ProvisioningAction(
        id=f"act-{instance_id}",
        instance_id=instance_id,
        action="provision",
        status="parked",
        failures=5,
        last_error="image not found",
    )
    db.add(action)
    db.commit()
    return action


def build_tree(db: Session) -> Iterator[dict[str, object]]:
    """Platform > reseller A > sub-reseller A (customer cust-a) and reseller B (customer cust-b), with staff of
    every role in A, an admin in B and the platform's operator; each customer has a parked action."""
    scheduled: list[tuple[str, float]] = []
    engine.set_scheduler(lambda action_id, delay: scheduled.append((action_id, delay)))
    platform = _org(db, "platform", OrgKind.PLATFORM, None)
    reseller_a = _org(db, "reseller-a", OrgKind.RESELLER, platform)
    sub_a = _org(db, "sub-a", OrgKind.SUB_RESELLER, reseller_a)
    reseller_b = _org(db, "reseller-b", OrgKind.RESELLER, platform)
    users = {
        "operator": staff_member(db, "operator", platform, Role.OWNER),
        "a-admin": staff_member(db, "a-admin", reseller_a, Role.ADMIN),
        "a-support": staff_member(db, "a-support", reseller_a, Role.SUPPORT),
        "a-billing": staff_member(db, "a-billing", reseller_a, Role.BILLING),
        "b-admin": staff_member(db, "b-admin", reseller_b, Role.ADMIN),
    }
    db.commit()
    inst_a = customer_instance(db, "cust-a", parent=sub_a)
    inst_b = customer_instance(db, "cust-b", parent=reseller_b)
    yield {
        "users": users,
        "a": _parked(db, inst_a.id),
        "b": _parked(db, inst_b.id),  # type: ignore[arg-type]
        "scheduled": scheduled,
        "sub_a": sub_a,
    }
    engine.set_scheduler(None)


def actor(db: Session, tree: dict, name: str) -> Actor | None:
    user = tree["users"][name]
    return resolve_actor(db, user.id, user.email)


def customer(db: Session, username: str) -> Customer:
    """A customer's user acting on their own organization, as the dashboard's handlers resolve them."""
    user = db.exec(select(User).where(User.username == username)).one()
    who = resolve_customer(db, user.id)  # type: ignore[arg-type]
    assert who is not None
    return who


def staff_session(db: Session, user_id: int) -> str:
    """A signed-in session of a staff member (what impersonation hangs off); returns its hash."""
    token = create_session(db, user_id)
    db.flush()
    return hash_token(token)
