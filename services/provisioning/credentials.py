"""Generated instance secrets: created once, stored encrypted, shown to the customer once."""

from __future__ import annotations

import json
import secrets

from sqlmodel import Session

from services.crypto import decrypt, encrypt
from services.models import Instance
from services.models.base import utcnow


def ensure_credentials(session: Session, instance: Instance) -> dict[str, str]:
    """Idempotent: a re-run of provisioning keeps the password the customer may already have."""
    if instance.credentials_encrypted:
        return load_credentials(instance)
    values = {"admin_password": secrets.token_urlsafe(15), "secret_key": secrets.token_hex(32)}
    instance.credentials_encrypted = encrypt(json.dumps(values))
    session.add(instance)
    return values


def replace_secret(session: Session, instance: Instance, name: str) -> str:
    """A new generated value for one of the instance's secrets (the rest kept); the next deploy applies it. The
    initial login is marked as shown: the new value is shown once by whoever asked for it, not again later."""
    values = ensure_credentials(session, instance)
    values[name] = secrets.token_urlsafe(15)
    instance.credentials_encrypted = encrypt(json.dumps(values))
    instance.credentials_shown_at = instance.credentials_shown_at or utcnow()
    session.add(instance)
    return values[name]


def load_credentials(instance: Instance) -> dict[str, str]:
    if not instance.credentials_encrypted:
        return {}
    return dict(json.loads(decrypt(instance.credentials_encrypted)))


def reveal_once(session: Session, instance: Instance) -> dict[str, str] | None:
    """The initial login for the dashboard; None after the customer has seen it once."""
    if instance.credentials_shown_at is not None or not instance.credentials_encrypted:
        return None
    instance.credentials_shown_at = utcnow()
    session.add(instance)
    return load_credentials(instance)
