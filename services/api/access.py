"""What an API call may reach: the token's scope first, then the one scoping function, exactly as the console
(staff: `authorise` over their subtree) or the dashboard (customers: their own organization) would decide.

A record outside the caller's reach is answered as if it did not exist (404), so ids cannot be probed, and the
refusal is audited like any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col

from services import audit
from services.api.tokens import ApiCaller
from services.customer.scope import own_instance
from services.models import Instance
from services.tenancy.scope import Forbidden, authorise, authorise_customer, visible

# the console's capability behind each scope, for staff
STAFF_CAPABILITY = {
    "instances:read": "view",
    "instances:write": "instances",
    "customers:read": "view",
    "customers:write": "manage",
    "usage:read": "view",
    "billing:read": "billing",
    "webhooks:write": "manage",
    "audit:read": "view",
    "account:export": "view",
}
# and for customers (on their own organization)
CUSTOMER_CAPABILITY = {
    "instances:read": "view",
    "instances:write": "instances",
    "usage:read": "view",
    "billing:read": "billing",
    "webhooks:write": "manage",
    "account:export": "status",
}


class MissingScope(PermissionError):
    """The token lacks the scope the call needs (403, naming it)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This token lacks the scope {scope}.")
        self.scope = scope


class NotFound(LookupError):
    """Not there, or not the caller's: the same answer either way."""


def require_scope(
    caller: ApiCaller, scope: str, session: Session | None = None, target: tuple[str, Any] = ("", "")
) -> None:
    """Refuse (403) a call its token's scopes do not cover; audited when the call named a record."""
    if scope in caller.scopes and (caller.customer is None or scope in CUSTOMER_CAPABILITY):
        return
    if session is not None:
        audit.record_detached(
            session,
            "api.denied",
            **caller.audit_fields(),
            target=target,
            details={"attempted": f"api.{scope}", "reason": "missing scope"},
        )
    raise MissingScope(scope)


def check(
    session: Session, caller: ApiCaller, scope: str, *, target: tuple[str, Any], organization_id: int | None
) -> None:
    """The caller may use `scope` on a record of `organization_id` (None: the record does not exist)."""
    require_scope(caller, scope, session, target)
    action = f"api.{scope}"
    try:
        if caller.customer is not None:
            authorise_customer(
                session,
                caller.customer,
                CUSTOMER_CAPABILITY[scope],
                action=action,
                target=target,
                organization_id=organization_id,
            )
        else:
            authorise(
                session,
                caller.actor,
                STAFF_CAPABILITY[scope],
                action=action,
                target=target,
                organization_id=organization_id if organization_id is not None else -1,
            )
    except Forbidden as exc:
        raise NotFound(f"No {target[0].replace('_', ' ')} {target[1]} here.") from exc


def scoped(caller: ApiCaller, column: Any) -> ColumnElement[bool]:
    """A WHERE condition limiting an organization-id column to what the caller may list."""
    if caller.customer is not None:
        return col(column) == (caller.customer.organization_id or -1)
    if caller.actor is None:
        return ~true()
    return visible(caller.actor, column)


def instance_for(session: Session, caller: ApiCaller, instance_id: int, scope: str) -> Instance:
    instance = session.get(Instance, instance_id)
    gone = instance is None or instance.status == "deprovisioned"
    if caller.customer is not None and not gone:
        require_scope(caller, scope, session, ("instance", instance_id))
        try:
            return own_instance(
                session,
                caller.customer,
                instance_id,
                capability=CUSTOMER_CAPABILITY[scope],
                attempted=f"api.{scope}",
            )
        except Forbidden as exc:
            raise NotFound(f"No instance {instance_id} here.") from exc
    check(
        session,
        caller,
        scope,
        target=("instance", instance_id),
        organization_id=None if gone or instance is None else instance.organization_id,
    )
    assert instance is not None
    return instance
