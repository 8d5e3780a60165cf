"""Per-instance usage API tokens: shown once, stored as a SHA-256 hash, rotated by issuing a new one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.keys.instance_keys import ensure, hash_key, issue
from services.models import ApiToken, Instance

PREFIX = "pit_"
SCOPE = "usage"


@dataclass(frozen=True)
class TokenOwner:
    instance_id: int
    organization_id: int


def issue_instance_token(session: Session, instance: Instance) -> str:
    """A new token for the instance; every earlier one stops working at once (rotation)."""
    return issue(session, instance, SCOPE, PREFIX, "usage")


def ensure_instance_token(session: Session, instance: Instance) -> str:
    """The live token, issued on first need: provisioning puts it into the instance's environment."""
    return ensure(session, instance, SCOPE, PREFIX, "usage")


def resolve_instance_token(session: Session, authorization: str | None) -> TokenOwner | None:
    """The instance a `Bearer` token belongs to, or None for anything else (missing, unknown, revoked)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    raw = authorization[len("Bearer ") :].strip()
    if not raw.startswith(PREFIX):
        return None
    token = session.exec(select(ApiToken).where(col(ApiToken.token_hash) == hash_key(raw))).first()
    if token is None or token.revoked_at is not None or token.instance_id is None or SCOPE not in token.scopes:
        return None
    return TokenOwner(instance_id=token.instance_id, organization_id=token.organization_id)
