"""Secrets bound to one instance, one live key per scope: issued, rotated (the old one stops at once) and revoked.

Stored as a SHA-256 hash for lookups, and encrypted for the platform's own use: every deploy writes the live keys
into the instance's environment, so they must be readable again (never by a customer after the first showing)."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from services.crypto import decrypt, encrypt
from services.models import ApiToken, Instance
from services.models.base import key, utcnow


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _live(session: Session, instance_id: int, scope: str) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken).where(
                col(ApiToken.instance_id) == instance_id,
                col(ApiToken.revoked_at).is_(None),
                col(ApiToken.scopes) == scope,
            )
        ).all()
    )


def revoke(session: Session, instance_id: int, scope: str) -> list[str]:
    """Revoke the instance's live keys of `scope`; the hashes that stopped working (for caches to forget)."""
    now, gone = utcnow(), []
    for old in _live(session, instance_id, scope):
        old.revoked_at = now
        session.add(old)
        gone.append(old.token_hash)
    return gone


def issue(session: Session, instance: Instance, scope: str, prefix: str, name: str) -> str:
    """A new key of `scope` for the instance; every earlier one stops working at once (rotation)."""
    revoke(session, key(instance), scope)
    raw = prefix + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            organization_id=instance.organization_id,
            instance_id=instance.id,
            name=name,
            prefix=raw[:12],
            token_hash=hash_key(raw),
            scopes=scope,
            secret_encrypted=encrypt(raw),
        )
    )
    session.flush()
    return raw


def live_secret(session: Session, instance_id: int, scope: str) -> str | None:
    """The instance's live key of `scope` in the clear (for its environment); "" for a live key issued before keys
    were kept encrypted (an instance configured by hand keeps it; the next rotation makes it readable); None when
    there is no live key."""
    tokens = _live(session, instance_id, scope)
    for token in tokens:
        if token.secret_encrypted:
            return decrypt(token.secret_encrypted)
    return "" if tokens else None


def ensure(session: Session, instance: Instance, scope: str, prefix: str, name: str) -> str:
    """The live key of `scope`, issued on first need."""
    found = live_secret(session, key(instance), scope)
    return found if found is not None else issue(session, instance, scope, prefix, name)
