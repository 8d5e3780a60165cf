"""The one place that decides who may see and do what, for staff and for customers alike.

Staff (platform, resellers) act as an `Actor` over their subtree: every console query is limited by `visible`
and every action goes through `authorise`. Customers act as a `Customer` on their own organization only, through
`authorise_customer`; staff impersonating a customer carry their own role with them, so impersonation never
grants more than the impersonator holds. Authorisation depends on memberships and roles only, never on the host
name a request came in on or on an id a browser sent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func, literal, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services import audit
from services.models import Membership, Organization, OrgKind, Role, User
from services.models.base import key, table_of

ADMIN_KINDS = (OrgKind.PLATFORM, OrgKind.RESELLER, OrgKind.SUB_RESELLER)

# capability -> roles that hold it
CAPABILITIES: dict[str, frozenset[str]] = {
    "view": frozenset({Role.OWNER, Role.ADMIN, Role.SUPPORT, Role.BILLING}),
    # a customer's instance status, usage and team list: every member of the customer's organization
    "status": frozenset({Role.OWNER, Role.ADMIN, Role.SUPPORT, Role.BILLING, Role.MEMBER}),
    "instances": frozenset({Role.OWNER, Role.ADMIN, Role.SUPPORT}),
    "billing": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
    "manage": frozenset({Role.OWNER, Role.ADMIN}),
    # one-time secrets of a customer's own (the instance's initial login, a new usage token): never shown to
    # anyone impersonating the customer, since the customer could then never see them
    "secrets": frozenset({Role.OWNER, Role.ADMIN}),
    # deleting what cannot be brought back (a free instance and its data): the owner's own decision, never made
    # for them by someone impersonating them
    "close": frozenset({Role.OWNER}),
}
NEVER_WHILE_IMPERSONATING = frozenset({"secrets", "close"})
ROLES_OFFERED = Role.ALL  # what the console's role pickers offer
NOT_YOURS = "That record is not in your account."


class Forbidden(PermissionError):
    """The actor may not see or change this record; the message is safe to show."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    email: str
    organization_id: int
    organization_kind: str
    role: str
    org_ids: frozenset[int]  # the actor's organization and everything below it

    @property
    def is_platform(self) -> bool:
        return self.organization_kind == OrgKind.PLATFORM

    def can(self, capability: str) -> bool:
        return self.role in CAPABILITIES[capability]

    def audit_fields(self) -> dict[str, Any]:
        return {"actor_user_id": self.user_id, "actor_label": self.email}


@dataclass(frozen=True)
class Customer:
    """A person acting on their own customer organization, or a staff member impersonating them."""

    user_id: int
    email: str
    organization_id: int | None
    role: str
    impersonator: Actor | None = None

    def audit_fields(self) -> dict[str, Any]:
        """Who did it: the impersonator when there is one, with the customer as the one it was done for."""
        if self.impersonator is not None:
            return {**self.impersonator.audit_fields(), "on_behalf_of_user_id": self.user_id}
        return {"actor_user_id": self.user_id, "actor_label": self.email}


_SUBTREES: dict[int, tuple[tuple[int, int, int, int], frozenset[int]]] = {}
_SUBTREES_LOCK = threading.Lock()


def subtree_ids(session: Session, root_id: int) -> frozenset[int]:
    """The organization and all its descendants. Every call of the console and the API asks it, and for the
    platform it is every organization (10,000 customers: 13 ms), so the answer is kept per process until the
    tree changes: the key is (how many organizations, the highest id, the sum of the parent ids and of each id
    times its parent), which any new, removed or moved organization changes (two swapped parents too), read in one
    aggregate query."""
    org = table_of(Organization)
    weighted = cast(org.c.id, BigInteger) * cast(org.c.parent_id, BigInteger)
    count, highest, parents, links = session.execute(
        sa_select(
            func.count(),
            func.coalesce(func.max(org.c.id), 0),
            func.coalesce(func.sum(org.c.parent_id), 0),
            func.coalesce(func.sum(weighted), 0),
        )
    ).one()
    generation = (int(count), int(highest), int(parents), int(links))
    cached = _SUBTREES.get(root_id)
    if cached is not None and cached[0] == generation:
        return cached[1]
    tree = sa_select(org.c.id).where(org.c.id == literal(root_id)).cte("tree", recursive=True)
    tree = tree.union_all(sa_select(org.c.id).where(org.c.parent_id == tree.c.id))
    ids = frozenset(int(x) for x in session.execute(sa_select(tree.c.id)).scalars())
    with _SUBTREES_LOCK:
        if len(_SUBTREES) > 10_000:
            _SUBTREES.clear()
        _SUBTREES[root_id] = (generation, ids)
    return ids


LISTED_SUBTREE = 1000  # organizations; above this a subtree is a recursive subquery in list queries


def visible(actor: Actor, column: Any) -> ColumnElement[bool]:
    """A WHERE condition limiting `column` (an organization id) to the actor's subtree, for list queries.

    The platform's subtree is everything, so its condition is always true. A small subtree is the actor's own
    list of ids (kept per process, see subtree_ids): PostgreSQL plans a short list far better than the recursive
    subquery (bench/api.py, a reseller of 200 customers: 4.8 ms for the subquery's plan, under 1 ms with the list);
    a larger one gets the recursive subquery, so a statement never grows with every customer.
    """
    if actor.is_platform:
        return true()
    if 0 < len(actor.org_ids) <= LISTED_SUBTREE:
        listed: ColumnElement[bool] = column.in_(sorted(actor.org_ids))
        return listed
    org = table_of(Organization)
    tree = sa_select(org.c.id).where(org.c.id == literal(actor.organization_id)).cte("subtree", recursive=True)
    tree = tree.union_all(sa_select(org.c.id).where(org.c.parent_id == tree.c.id))
    condition: ColumnElement[bool] = column.in_(sa_select(tree.c.id))
    return condition


def resolve_actor(session: Session, user_id: int, email: str = "") -> Actor | None:
    """The admin identity of a user: their membership in the highest platform/reseller organization, if any."""
    rows = session.exec(
        select(Membership, Organization)
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(
            col(Membership.user_id) == user_id,
            col(Organization.kind).in_(ADMIN_KINDS),
            col(Organization.status) == "active",
        )
    ).all()
    ranked = sorted(rows, key=lambda r: (ADMIN_KINDS.index(r[1].kind), r[0].id))
    for membership, org in ranked:
        if membership.role in CAPABILITIES["view"]:
            return Actor(
                user_id=user_id,
                email=email,
                organization_id=key(org),
                organization_kind=org.kind,
                role=membership.role,
                org_ids=subtree_ids(session, key(org)),
            )
    return None


def is_staff(session: Session, user_id: int) -> bool:
    """Cheap check for the header's "Admin" link; the console itself always resolves the full actor."""
    return (
        session.exec(
            select(col(Membership.id))
            .join(Organization, col(Organization.id) == col(Membership.organization_id))
            .where(
                col(Membership.user_id) == user_id,
                col(Organization.kind).in_(ADMIN_KINDS),
                col(Membership.role).in_(CAPABILITIES["view"]),
            )
        ).first()
        is not None
    )


def require(actor: Actor | None, capability: str, organization_id: int | None = None) -> Actor:
    """Raise Forbidden unless the actor holds the capability (over that organization, when one is named)."""
    if actor is None:
        raise Forbidden("You do not have access to the admin console.")
    if not actor.can(capability):
        raise Forbidden(f"Your role ({actor.role}) does not allow this.")
    if organization_id is not None and organization_id not in actor.org_ids:
        raise Forbidden("That record is not in your organization.")
    return actor


def require_platform(actor: Actor | None, capability: str = "view") -> Actor:
    """Records that belong to the platform as a whole (Stripe events) are for platform staff only."""
    actor = require(actor, capability)
    if not actor.is_platform:
        raise Forbidden("Only platform staff can do this.")
    return actor


def authorise(
    session: Session,
    actor: Actor | None,
    capability: str,
    *,
    action: str,
    target: tuple[str, object],
    organization_id: int | None = None,
    platform: bool = False,
) -> Actor:
    """`require`/`require_platform`, and a refused attempt is written to the audit log (it survives rollback)."""
    try:
        checked = require_platform(actor, capability) if platform else require(actor, capability, organization_id)
        if organization_id is not None:
            require(checked, capability, organization_id)
        return checked
    except Forbidden as exc:
        audit.record_detached(
            session,
            "admin.denied",
            actor_label=actor.email if actor else "anonymous",
            target=target,
            details={"attempted": action, "reason": str(exc), "actor_user_id": actor.user_id if actor else None},
        )
        raise


def resolve_customer(session: Session, user_id: int, impersonator_id: int | None = None) -> Customer | None:
    """The customer identity of a signed-in user: their customer organization and role there.

    `impersonator_id` is the staff member behind an impersonation session; their own actor (role and subtree)
    comes along and limits everything done in the customer's name.
    """
    # the person and their first customer membership in one query (asked on every dashboard event)
    found = session.execute(
        sa_select(col(User.email), col(User.status), col(Membership.organization_id), col(Membership.role))
        .select_from(User)
        .outerjoin(
            Membership,
            (col(Membership.user_id) == col(User.id))
            & col(Membership.organization_id).in_(
                sa_select(col(Organization.id)).where(col(Organization.kind) == OrgKind.CUSTOMER)
            ),
        )
        .where(col(User.id) == user_id)
        .order_by(col(Membership.id))
        .limit(1)
    ).first()
    if found is None or found[1] != "active":
        return None
    email, _status, organization_id, role = found
    impersonator = None
    if impersonator_id is not None:
        staff = session.get(User, impersonator_id)
        impersonator = resolve_actor(session, impersonator_id, staff.email) if staff else None
        if impersonator is None:
            return None
    return Customer(
        user_id=user_id,
        email=email,
        organization_id=organization_id,
        role=role or "",
        impersonator=impersonator,
    )


def authorise_customer(
    session: Session,
    who: Customer | None,
    capability: str,
    *,
    action: str,
    target: tuple[str, object],
    organization_id: int | None,
    ip: str = "",
) -> Customer:
    """The customer may do `capability` on a record of `organization_id`; refusals are audited and raise.

    The record must be in the customer's own organization and their role must allow it. While a staff member
    impersonates the customer, the staff member's own role must allow it too, over that organization; and
    what is listed in NEVER_WHILE_IMPERSONATING is refused to every impersonator.
    """
    reason = ""
    if who is None or organization_id is None or who.organization_id != organization_id:
        reason = NOT_YOURS
    elif who.role not in CAPABILITIES[capability]:
        reason = f"Your role ({who.role or 'none'}) does not allow this."
    elif who.impersonator is not None:
        if capability in NEVER_WHILE_IMPERSONATING:
            reason = "This is the customer's own secret: it is not shown while you impersonate them."
        elif not who.impersonator.can(capability) or organization_id not in who.impersonator.org_ids:
            reason = f"Your role ({who.impersonator.role}) does not allow this, not even while impersonating."
    if reason:
        identity = who.audit_fields() if who is not None else {"actor_label": "anonymous"}
        audit.record_detached(
            session,
            "customer.denied",
            target=target,
            ip=ip,
            **identity,
            details={"attempted": action, "reason": reason, "actor_user_id": who.user_id if who else None},
        )
        raise Forbidden(reason)
    assert who is not None
    return who


def impersonation_target(session: Session, actor: Actor | None, user_id: int) -> int | None:
    """The customer organization `actor` may impersonate `user_id` in, or None when it may not.

    Only users who belong to customer organizations alone (never staff of any seller) and only inside the
    actor's subtree, by an actor whose role acts on instances. Checked when impersonation starts and again
    on every request of the impersonation session, so a demotion or a lost membership ends it at once.
    """
    if actor is None or not actor.can("instances"):
        return None
    orgs = session.exec(
        select(Organization)
        .join(Membership, col(Membership.organization_id) == col(Organization.id))
        .where(col(Membership.user_id) == user_id)
    ).all()
    if not orgs or any(org.kind != OrgKind.CUSTOMER for org in orgs):
        return None
    if any(org.id not in actor.org_ids for org in orgs):
        return None
    return orgs[0].id
