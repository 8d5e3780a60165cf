"""The one place that decides what an admin may see and do.

Every admin query goes through `visible_org_ids` (the actor's subtree) and every admin action through
`require`. Authorisation depends on memberships only, never on the host name the request came in on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import literal, select as sa_select, true
from sqlmodel import Session, select

from services import audit
from services.models import Membership, Organization, OrgKind, Role

ADMIN_KINDS = (OrgKind.PLATFORM, OrgKind.RESELLER, OrgKind.SUB_RESELLER)

# capability -> roles that hold it
CAPABILITIES: dict[str, frozenset[str]] = {
    "view": frozenset({Role.OWNER, Role.ADMIN, Role.SUPPORT, Role.BILLING}),
    "instances": frozenset({Role.OWNER, Role.ADMIN, Role.SUPPORT}),
    "billing": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
    "manage": frozenset({Role.OWNER, Role.ADMIN}),
}


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


def subtree_ids(session: Session, root_id: int) -> frozenset[int]:
    """The organization and all its descendants, in one recursive query."""
    org = Organization.__table__  # type: ignore[attr-defined]
    tree = sa_select(org.c.id).where(org.c.id == literal(root_id)).cte("tree", recursive=True)
    tree = tree.union_all(sa_select(org.c.id).where(org.c.parent_id == tree.c.id))
    return frozenset(int(x) for x in session.execute(sa_select(tree.c.id)).scalars())


def visible(actor: Actor, column):  # type: ignore[no-untyped-def]
    """A WHERE condition limiting `column` (an organization id) to the actor's subtree, for list queries.

    The platform's subtree is everything, so its condition is always true; anyone else gets a recursive
    subquery of their subtree (not a literal list of ids, which would grow with every customer).
    """
    if actor.is_platform:
        return true()
    org = Organization.__table__  # type: ignore[attr-defined]
    tree = sa_select(org.c.id).where(org.c.id == literal(actor.organization_id)).cte("subtree", recursive=True)
    tree = tree.union_all(sa_select(org.c.id).where(org.c.parent_id == tree.c.id))
    return column.in_(sa_select(tree.c.id))


def resolve_actor(session: Session, user_id: int, email: str = "") -> Actor | None:
    """The admin identity of a user: their membership in the highest platform/reseller organization, if any."""
    rows = session.exec(
        select(Membership, Organization).join(Organization, Organization.id == Membership.organization_id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id, Organization.kind.in_(ADMIN_KINDS),  # type: ignore[attr-defined]
               Organization.status == "active")
    ).all()
    ranked = sorted(rows, key=lambda r: (ADMIN_KINDS.index(r[1].kind), r[0].id))
    for membership, org in ranked:
        if membership.role in CAPABILITIES["view"]:
            return Actor(user_id=user_id, email=email, organization_id=org.id, organization_kind=org.kind,  # type: ignore[arg-type]
                         role=membership.role, org_ids=subtree_ids(session, org.id))  # type: ignore[arg-type]
    return None


def is_staff(session: Session, user_id: int) -> bool:
    """Cheap check for the header's "Admin" link; the console itself always resolves the full actor."""
    return session.exec(
        select(Membership.id).join(Organization, Organization.id == Membership.organization_id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id, Organization.kind.in_(ADMIN_KINDS),  # type: ignore[attr-defined]
               Membership.role.in_(CAPABILITIES["view"]))  # type: ignore[attr-defined]
    ).first() is not None


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


def authorise(session: Session, actor: Actor | None, capability: str, *, action: str,
              target: tuple[str, object], organization_id: int | None = None, platform: bool = False) -> Actor:
    """`require`/`require_platform`, and a refused attempt is written to the audit log (it survives rollback)."""
    try:
        checked = require_platform(actor, capability) if platform else require(actor, capability, organization_id)
        if organization_id is not None:
            require(checked, capability, organization_id)
        return checked
    except Forbidden as exc:
        audit.record_detached(session, "admin.denied", actor_label=actor.email if actor else "anonymous",
                              target=target, details={"attempted": action, "reason": str(exc),
                                                      "actor_user_id": actor.user_id if actor else None})
        raise
