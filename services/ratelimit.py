"""Rate limits for sign-in and sign-up, per IP and per account, on memory or Redis storage (`limits`)."""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.config import get_settings
from services.errors import RateLimited


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    settings = get_settings()
    # Memory storage is per process: right for the single-worker default. Several workers need Redis.
    uri = settings.redis_url or "memory://"
    return MovingWindowRateLimiter(storage_from_string(uri))


def reset_limiter() -> None:
    _limiter.cache_clear()


def _item(rate: str) -> RateLimitItem:
    return parse(rate)


def hit(rate: str, *keys: str) -> None:
    """Count one attempt against `rate` for the given keys; raise RateLimited when any key is over."""
    limiter = _limiter()
    item = _item(rate)
    for key in keys:
        if not limiter.hit(item, "portal", key):
            reset_at, _remaining = limiter.get_window_stats(item, "portal", key)
            raise RateLimited(math.ceil(reset_at - time.time()))


def clear(rate: str, *keys: str) -> None:
    limiter = _limiter()
    for key in keys:
        limiter.clear(_item(rate), "portal", key)


def account_key(user_id: int | None, typed: str = "") -> str:
    """The account's bucket: by its id when it exists, so every name it can be typed as shares one count."""
    return f"user:{user_id}" if user_id is not None else f"name:{typed.strip().lower()}"


def login_keys(ip: str, account: str) -> tuple[str, str]:
    return f"login-ip:{ip}", f"login-account:{account}"


def check_login(ip: str, account: str) -> None:
    """One guess at a password (sign-in, or a current-password check on the account page): counted per IP and
    per account (see `account_key`), so neither form can be used to guess faster than the other."""
    settings = get_settings()
    ip_key, account_bucket = login_keys(ip, account)
    hit(settings.login_rate_per_ip, ip_key)
    hit(settings.login_rate_per_account, account_bucket)


def check_password_guess(user_id: int, ip: str = "") -> None:
    check_login(ip or "unknown", account_key(user_id))


def forget_login_failures(account: str) -> None:
    """A successful sign-in wipes the account's failed attempts (the per-IP count stays)."""
    clear(get_settings().login_rate_per_account, login_keys("", account)[1])


def check_signup(ip: str) -> None:
    hit(get_settings().signup_rate_per_ip, f"signup-ip:{ip}")
