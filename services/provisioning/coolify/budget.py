"""One request budget per Coolify token, shared by every process that calls Coolify with it.

Coolify allows a token about 200 calls a minute (Laravel's `ThrottleRequests`, `API_RATE_LIMIT`) and answers 429
beyond. Every consumer thread, every consumer process and the web processes (an admin's logs or health check) use
the same token, so the budget lives where all of them see it: in Redis when the portal has one (`limits`' moving
window, exact), in the database otherwise (a token bucket in one row, `RequestBudget`). A call waits for budget
instead of running into 429; a 429 that still comes (another client on the same token) pauses every caller for
its Retry-After.

The bucket never lets more than the budget through in any 60 seconds: a burst of at most `burst` calls, then the
rest of the minute's budget spread evenly (Laravel's window is fixed and starts at any call, so a bucket as deep as
the whole budget could let twice the budget into one of its windows).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from sqlalchemy import text
from sqlmodel import Session

from services.db import session_scope
from services.models import RequestBudget
from services.models.base import upsert_insert
from services.provisioning.errors import ProvisioningError

WINDOW_SECONDS = 60.0
LONGEST_WAIT_SECONDS = 120.0  # a caller that would wait longer gives up (the engine retries the step later)


class BudgetExhausted(ProvisioningError):
    """Waiting for budget would take longer than a step may wait: the engine retries the step later."""


class RequestBudgetStore(Protocol):
    def take(self) -> float:
        """Take one call's budget: 0 when granted, else the seconds until one may be granted."""

    def pause(self, seconds: float) -> None:
        """The API said 429 with Retry-After: nobody sends until then."""


def budget_key(base_url: str, token: str) -> str:
    """Per token and server; the token itself is never stored, only a hash that cannot be turned back."""
    return "coolify:" + hashlib.sha256(f"{base_url}\n{token}".encode()).hexdigest()[:32]


def burst_for(per_minute: int) -> int:
    return max(1, min(10, per_minute // 4))


class DatabaseBudget:
    """A token bucket in one row; the row's lock (PostgreSQL) or the write lock (SQLite) serialises takers."""

    def __init__(self, key: str, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.key, self.clock = key, clock
        self.burst = burst_for(per_minute)
        self.rate = max(per_minute - self.burst, 1) / WINDOW_SECONDS  # calls per second after the burst

    def _ensure_row(self, session: Session, now: float) -> None:
        session.execute(
            upsert_insert(session, RequestBudget)
            .values(key=self.key, tokens=float(self.burst), updated_at=now, paused_until=0.0)
            .on_conflict_do_nothing(index_elements=["key"])
        )

    def take(self) -> float:
        with session_scope() as session:
            self._ensure_row(session, self.clock())
            row = session.execute(
                text("UPDATE request_budget SET key = key WHERE key = :key RETURNING tokens, updated_at, paused_until"),
                {"key": self.key},
            ).one()  # the UPDATE takes the lock before anything is read
            # the time is read under the lock: a taker that read it before waiting for the lock would write an
            # older refill time and the next one would count the same seconds' budget twice
            now = max(self.clock(), row.updated_at)
            tokens: float = min(float(self.burst), row.tokens + max(0.0, now - row.updated_at) * self.rate)
            if row.paused_until > now:
                wait = row.paused_until - now
            elif tokens >= 1.0:
                tokens, wait = tokens - 1.0, 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            session.execute(
                text("UPDATE request_budget SET tokens = :tokens, updated_at = :now WHERE key = :key"),
                {"tokens": tokens, "now": now, "key": self.key},
            )
        return float(wait)

    def pause(self, seconds: float) -> None:
        now = self.clock()
        until = now + seconds
        with session_scope() as session:
            self._ensure_row(session, now)
            session.execute(
                text(
                    "UPDATE request_budget SET paused_until = :until, tokens = 0 "
                    "WHERE key = :key AND paused_until < :until"
                ),
                {"until": until, "key": self.key},
            )


class RedisBudget:
    """`limits`' moving window on Redis: exact, and shared by every process that reaches that Redis."""

    def __init__(self, key: str, per_minute: int, redis_url: str, clock: Callable[[], float] = time.time) -> None:
        import redis
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.key, self.clock = key, clock
        self.limiter = MovingWindowRateLimiter(storage_from_string(redis_url))
        self.item = RateLimitItemPerSecond(per_minute, int(WINDOW_SECONDS))  # a minute (tests may shorten it)
        self.redis = redis.Redis.from_url(redis_url)

    def _pause_key(self) -> str:
        return f"portal:{self.key}:paused-until"

    def take(self) -> float:
        raw = self.redis.get(self._pause_key())
        paused, now = float(raw) if isinstance(raw, bytes | str) else 0.0, self.clock()
        if paused > now:
            return paused - now
        if self.limiter.hit(self.item, "portal", self.key):
            return 0.0
        reset_at, _remaining = self.limiter.get_window_stats(self.item, "portal", self.key)
        return max(0.05, reset_at - now)

    def pause(self, seconds: float) -> None:
        self.redis.set(self._pause_key(), str(self.clock() + seconds), px=max(1, int(seconds * 1000)))


class RequestBudgetGate:
    """What the client calls before every request: waits for budget, or gives up with a clear message."""

    def __init__(self, store: RequestBudgetStore, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.sleep = store, sleep

    def acquire(self, longest: float = LONGEST_WAIT_SECONDS) -> None:
        waited = 0.0
        while (wait := self.store.take()) > 0:
            if waited + wait > longest:
                raise BudgetExhausted(
                    f"Coolify's request budget is spent for the next {wait:.0f} s (other instances are being "
                    "provisioned); trying again later."
                )
            self.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        self.store.pause(seconds)


@lru_cache(maxsize=8)
def shared_store(key: str, per_minute: int, redis_url: str | None) -> RequestBudgetStore:
    """One store per token in this process (the budget itself is in Redis or the database, shared)."""
    if redis_url:
        return RedisBudget(key, per_minute, redis_url)
    return DatabaseBudget(key, per_minute)
