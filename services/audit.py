"""The audit trail. Details pass through redact() so secrets never reach the log table."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from services.models import AuditEvent, User

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential|totp|cookie", re.I)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    actor_user_id: int | None = None,
    actor_label: str = "",
    on_behalf_of_user_id: int | None = None,
    target: tuple[str, Any] | None = None,
    organization_id: int | None = None,
    ip: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_user_id=actor.id if actor else actor_user_id,
            actor_label=(actor.email if actor else actor_label)[:254],
            on_behalf_of_user_id=on_behalf_of_user_id,
            action=action,
            target_type=target[0] if target else None,
            target_id=str(target[1]) if target else None,
            organization_id=organization_id,
            ip=ip[:64] or None,
            details=redact(details or {}),
        )
    )


def record_detached(session: Session, action: str, **kwargs: Any) -> None:
    """Write an audit event that must survive the caller's rollback (a refused sign-in is still logged)."""
    with Session(session.get_bind()) as own:
        record(own, action, **kwargs)
        own.commit()
