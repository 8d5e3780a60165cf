"""Token hashing and encryption at rest, all keyed from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

from services.config import get_settings


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Session, e-mail and API tokens are high-entropy, so a plain SHA-256 is enough to make a leak harmless."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(text: str) -> str:
    """A short keyed hash that tells repeated values apart without revealing them (e.g. in the audit log)."""
    key = hashlib.sha256(("fingerprint:" + get_settings().resolved_secret_key()).encode()).digest()
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _fernet() -> Fernet:
    key = hashlib.sha256(("encryption:" + get_settings().resolved_secret_key()).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str, ttl_seconds: int | None = None) -> str:
    """The plaintext; with `ttl_seconds`, only if it was encrypted at most that long ago (a download link)."""
    try:
        return _fernet().decrypt(ciphertext.encode("ascii"), ttl=ttl_seconds).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:  # wrong key, tampered or expired: never return garbage
        raise ValueError("cannot decrypt: the SECRET_KEY changed or the data was altered") from exc
