"""Server-side sessions: the browser holds a random token, the database only its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from services.config import get_settings
from services.crypto import hash_token, new_token
from services.models import AuthSession, User
from services.models.base import utcnow
from services.tenancy.scope import impersonation_target, resolve_actor


@dataclass(frozen=True)
class CurrentUser:
    """What the UI may know about the signed-in person (never the password hash)."""

    id: int
    email: str
    username: str
    email_verified: bool
    session_hash: str
    impersonator_email: str = ""  # set when an admin is looking through this session (shown on every page)
    impersonator_id: int | None = None


def create_session(session: Session, user_id: int, ip: str = "", user_agent: str = "") -> str:
    token = new_token()
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(days=get_settings().session_days),
            ip=ip[:64] or None,
            user_agent=user_agent[:300] or None,
        )
    )
    return token


def resolve_session(session: Session, token: str) -> CurrentUser | None:
    """Who a browser's token belongs to now. Asked on every event of every browser, so it reads the few columns
    it needs in one query (no ORM objects); an impersonation session takes the full path."""
    if not token:
        return None
    token_hash = hash_token(token)
    row = session.execute(
        sa_select(
            col(AuthSession.id),
            col(AuthSession.impersonator_id),
            col(User.id),
            col(User.email),
            col(User.username),
            col(User.email_verified_at),
        )
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(
            col(AuthSession.token_hash) == token_hash,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
            col(User.status) == "active",
        )
    ).first()
    if row is None:
        return None
    session_id, impersonator_id, user_id, email, username, verified_at = row
    impersonator = None
    if impersonator_id is not None:
        auth = session.get(AuthSession, session_id)
        assert auth is not None
        impersonator = _impersonator_still_allowed(session, auth)
        if impersonator is None:
            auth.revoked_at = utcnow()
            session.add(auth)
            return None
    return CurrentUser(
        id=user_id,
        email=email,
        username=username,
        email_verified=verified_at is not None,
        session_hash=token_hash,
        impersonator_email=impersonator.email if impersonator else "",
        impersonator_id=impersonator.id if impersonator else None,
    )


def _impersonator_still_allowed(session: Session, auth: AuthSession) -> User | None:
    """The impersonator, while their own session lives and their role still allows impersonating this user."""
    staff = session.get(User, auth.impersonator_id)
    parent = session.get(AuthSession, auth.parent_id) if auth.parent_id else None
    if (
        staff is None
        or staff.status != "active"
        or parent is None
        or parent.user_id != staff.id
        or parent.revoked_at is not None
        or parent.expires_at <= utcnow()
    ):
        return None
    actor = resolve_actor(session, staff.id, staff.email)
    return staff if impersonation_target(session, actor, auth.user_id) is not None else None


def revoke_session(session: Session, token: str) -> None:
    session.exec(
        update(AuthSession)
        .where(col(AuthSession.token_hash) == hash_token(token), col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(session: Session, user_id: int, except_hash: str | None = None) -> int:
    statement = update(AuthSession).where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
    if except_hash:
        statement = statement.where(col(AuthSession.token_hash) != except_hash)
    return int(session.exec(statement.values(revoked_at=utcnow())).rowcount or 0)


def list_sessions(session: Session, user_id: int, current_hash: str = "") -> list[dict[str, str | bool]]:
    """The user's signed-in browsers, newest first, for the account page (never the token or its hash)."""
    rows = session.exec(
        select(AuthSession)
        .where(
            col(AuthSession.user_id) == user_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
        )
        .order_by(col(AuthSession.created_at).desc())
    ).all()
    return [
        {
            "started": row.created_at.strftime("%Y-%m-%d %H:%M"),
            "ip": row.ip or "unknown",
            "browser": (row.user_agent or "unknown")[:80],
            "current": row.token_hash == current_hash,
        }
        for row in rows
    ]
