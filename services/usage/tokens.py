"""Per-instance API tokens: shown once, stored only as a SHA-256 hash, rotated by issuing a new one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.models import ApiToken, Instance
from services.models.base import utcnow

PREFIX = "pit_"
SCOPE = "usage"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TokenOwner:
    instance_id: int
    organization_id: int


def issue_instance_token(session: Session, instance: Instance) -> str:
    """A new token for the instance; every earlier one stops working at once (rotation)."""
    now = utcnow()
    for old in session.exec(
        select(ApiToken).where(col(ApiToken.instance_id) == instance.id, col(ApiToken.revoked_at).is_(None))
    ).all():
        old.revoked_at = now
        session.add(old)
    raw = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            organization_id=instance.organization_id,
            instance_id=instance.id,
            name="usage",
            prefix=raw[:12],
            token_hash=_hash(raw),
            scopes=SCOPE,
        )
    )
    return raw


def resolve_instance_token(session: Session, authorization: str | None) -> TokenOwner | None:
    """The instance a `Bearer` token belongs to, or None for anything else (missing, unknown, revoked)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    raw = authorization[len("Bearer ") :].strip()
    if not raw.startswith(PREFIX):
        return None
    token = session.exec(select(ApiToken).where(col(ApiToken.token_hash) == _hash(raw))).first()
    if token is None or token.revoked_at is not None or token.instance_id is None or SCOPE not in token.scopes:
        return None
    return TokenOwner(instance_id=token.instance_id, organization_id=token.organization_id)
