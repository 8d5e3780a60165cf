"""The one huey instance. It knows only the queue; each domain registers its own tasks (services/worker.py)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from services.config import Settings, get_settings
from services.jobs.wakeup import WakeupSqliteHuey

log = logging.getLogger(__name__)


def build_huey(settings: Settings) -> Huey:
    if settings.jobs_immediate:
        # Tests of plain service code: tasks run inline, in memory.
        return MemoryHuey(settings.jobs_queue_name, immediate=True)
    if settings.redis_url:
        # Redis: the consumer blocks on the queue instead of polling, so jobs start at once.
        return RedisHuey(settings.jobs_queue_name, url=settings.redis_url, blocking=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # fsync off: a job lost to a power cut is found again by the periodic sweeps (pending Stripe events,
    # interrupted provisioning actions), which read the portal's own database. Producers wake the consumer
    # through a socket, so it starts a job at once instead of at its next poll (services/jobs/wakeup.py).
    return WakeupSqliteHuey(
        settings.jobs_queue_name, filename=str(settings.var_dir / "huey.db"), timeout=30, fsync=False
    )


huey: Huey = build_huey(get_settings())


def task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.task` with the types huey itself does not declare (the result is huey's TaskWrapper)."""
    return cast(Callable[[Callable[..., Any]], Any], huey.task(**options))


def claim_period(name: str, period_seconds: int, now: float | None = None) -> bool:
    """True for the first caller in this period of `name`, False for every other (in any process or host).

    An atomic put-if-empty in the queue's own storage (Redis SETNX, a unique row in SQLite), keyed by the period's
    number; the previous period's key is removed so that keys do not pile up.
    """
    slot = int((time.time() if now is None else now) // period_seconds)
    claimed = bool(huey.put_if_empty(f"periodic:{name}:{slot}", b"1"))
    if claimed:
        huey.delete(f"periodic:{name}:{slot - 1}")
    return claimed


def try_hold(name: str, stale_after: float) -> bool:
    """Take the hold `name` in the queue's storage (Redis SETNX, a unique row in SQLite) unless someone has it.

    For "one at a time is enough" work, never for mutual exclusion: a hold older than `stale_after` seconds (its
    holder was killed) is taken over, and in that rare race two may hold it, so what runs under it must be safe
    to run twice at once.
    """
    key = f"hold:{name}"
    if huey.put_if_empty(key, str(time.time()).encode()):
        return True
    held_since = huey.get(key, peek=True)
    try:
        stale = held_since is not None and time.time() - float(held_since) > stale_after
    except (TypeError, ValueError):
        stale = True
    if stale or held_since is None:
        huey.delete(key)
        return bool(huey.put_if_empty(key, str(time.time()).encode()))
    return False


def release_hold(name: str) -> None:
    huey.delete(f"hold:{name}")


def periodic_task(
    schedule: Callable[..., bool], *, period_seconds: int, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """`huey.periodic_task`, typed like `task`, run once per period however many consumers schedule it.

    Every consumer with a scheduler enqueues the task when `schedule` says so (compose's `--scale worker=N`
    starts N of them); the first run of a period claims it and the others return at once without doing anything.
    `period_seconds` is the schedule's period. A direct `call_local()` (tests, operators) always runs.
    """

    def decorate(function: Callable[..., Any]) -> Any:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def once_per_period(*args: Any, **kwargs: Any) -> Any:
            if not claim_period(name, period_seconds):
                log.info("periodic %s already ran in this period (another consumer)", name)
                return None
            return function(*args, **kwargs)

        wrapper = huey.periodic_task(schedule, **options)(once_per_period)
        wrapper.call_local = function  # running it by hand means running it
        return wrapper

    return decorate


def on_consumer_start() -> Callable[[Callable[[], None]], Callable[[], None]]:
    """`huey.on_startup`, typed: runs in each worker of a consumer as it starts (never in the web process)."""
    return cast(Callable[[Callable[[], None]], Callable[[], None]], huey.on_startup())


def storage_kind(h: Huey | None = None) -> str:
    h = h or huey
    if isinstance(h, RedisHuey):
        return "redis"
    if isinstance(h, SqliteHuey):
        return "sqlite"
    return "memory"
