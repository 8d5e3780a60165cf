"""API tokens and webhook endpoints from the pages (/developers): a person manages those of their own organization
(their staff organization, else their customer organization) as owner or admin, through the same scoped calls the
API itself uses. Never while impersonating: a token or a signing secret is shown once, to its owner only."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlmodel import Session

from services import audit
from services.api import webhook_endpoints as hooks
from services.api.tokens import (
    CUSTOMER_SCOPES,
    ROLE_SCOPES,
    ApiCaller,
    Issued,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from services.models import Organization, User
from services.tenancy.scope import resolve_actor, resolve_customer
from services.webhooks.outbox import EVENT_TYPES

NOT_WHILE_IMPERSONATING = "API tokens and webhook secrets are not shown while you impersonate someone."
MANAGERS = ("owner", "admin")
ONLY_MANAGERS = "Only owners and admins manage API tokens and webhooks."


def person(session: Session, user_id: int, impersonating: bool = False) -> ApiCaller:
    """The person as a caller of their own organization, with every scope their role may grant (token 0: the
    pages, not a token)."""
    user = session.get(User, user_id)
    email = user.email if user else ""
    if impersonating:
        _refuse(session, user_id, email, NOT_WHILE_IMPERSONATING)
    actor = resolve_actor(session, user_id, email)
    if actor is not None:
        if actor.role not in MANAGERS:
            _refuse(session, user_id, email, ONLY_MANAGERS)
        return ApiCaller(0, actor.organization_id, ROLE_SCOPES[actor.role], actor=actor)
    customer = resolve_customer(session, user_id)
    if customer is None or customer.organization_id is None or customer.role not in MANAGERS:
        _refuse(session, user_id, email, ONLY_MANAGERS)
    assert customer is not None and customer.organization_id is not None
    return ApiCaller(0, customer.organization_id, CUSTOMER_SCOPES, customer=customer)


def _refuse(session: Session, user_id: int, email: str, reason: str) -> NoReturn:
    audit.record_detached(
        session,
        "admin.denied",
        actor_user_id=user_id,
        actor_label=email,
        target=("developers", user_id),
        details={"attempted": "developers", "reason": reason},
    )
    raise PermissionError(reason)


def overview(session: Session, user_id: int, impersonating: bool = False) -> dict[str, Any]:
    caller = person(session, user_id, impersonating)
    org = session.get(Organization, caller.organization_id)
    return {
        "organization": org.name if org else "",
        "scopes": sorted(caller.scopes),
        "event_types": list(EVENT_TYPES),
        "tokens": list_api_tokens(session, user_id, caller.organization_id),
        "endpoints": [
            {**e, "id": str(e["id"]), "event_types": ", ".join(e["event_types"])}
            for e in hooks.list_endpoints(session, caller)
        ],
    }


def create_token(
    session: Session, user_id: int, name: str, scopes: list[str], expires_days: str, ip: str = ""
) -> Issued:
    caller = person(session, user_id)
    days = int(expires_days) if expires_days.strip().isdigit() else None
    return issue_api_token(session, user_id, caller.organization_id, name, scopes, days, ip=ip)


def revoke_token(session: Session, user_id: int, token_id: int, ip: str = "") -> None:
    person(session, user_id)
    revoke_api_token(session, user_id, token_id, ip=ip)


def create_endpoint(session: Session, user_id: int, url: str, types: list[str], ip: str = "") -> str:
    created = hooks.create_endpoint(session, person(session, user_id), url, types, "", ip)
    return str(created["secret"])


def set_enabled(session: Session, user_id: int, endpoint_id: int, enabled: bool, ip: str = "") -> None:
    hooks.update_endpoint(session, person(session, user_id), endpoint_id, {"enabled": enabled}, ip)


def rotate(session: Session, user_id: int, endpoint_id: int, ip: str = "") -> str:
    return hooks.rotate(session, person(session, user_id), endpoint_id, ip)


def delete_endpoint(session: Session, user_id: int, endpoint_id: int, ip: str = "") -> None:
    hooks.delete_endpoint(session, person(session, user_id), endpoint_id, ip)


def deliveries(session: Session, user_id: int, endpoint_id: int) -> list[dict[str, str]]:
    page = hooks.deliveries(session, person(session, user_id), endpoint_id, None, 50)
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in page["items"]]


def replay(session: Session, user_id: int, endpoint_id: int, delivery_id: int, ip: str = "") -> None:
    hooks.replay(session, person(session, user_id), endpoint_id, delivery_id, ip)
