"""Password hashing (passlib, argon2) and the password policy."""

from __future__ import annotations

from passlib.context import CryptContext

from services.config import get_settings

# argon2 only: passlib's bcrypt handler breaks on bcrypt 5 (REFLEX-NOTES §12.2). The test environment hashes with
# the cheapest argon2 parameters (the same algorithm and code path, ~100 times faster): every test builds users.
_COSTS = {"memory_cost": 1024, "rounds": 1} if get_settings().environment == "test" else {}
_context = CryptContext(schemes=["argon2"], deprecated="auto", **{f"argon2__{k}": v for k, v in _COSTS.items()})

MIN_LENGTH = 10
MAX_LENGTH = 128  # hashing cost grows with length; an upper bound stops a cheap denial of service

_COMMON = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "qwerty1234",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "admin12345",
        "abcdefghij",
        "abc1234567",
        "passw0rd12",
        "changeme12",
    }
)


def hash_password(password: str) -> str:
    return str(_context.hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(_context.verify(password, password_hash))
    except (ValueError, TypeError):
        return False


# A valid hash to verify against when the account does not exist, so timing does not reveal which e-mails exist.
_DUMMY_HASH = _context.hash("not-a-real-password-for-timing")


def burn_time() -> None:
    _context.verify("x", _DUMMY_HASH)


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why this password is refused, or None. Kept in one place so every form says the same thing."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        return "This password is too easy to guess."
    for personal in (username.lower(), email.lower().split("@")[0]):
        if len(personal) >= 3 and personal in lowered:
            return "The password must not contain your username or e-mail."
    return None
