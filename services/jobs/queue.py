"""The one huey instance. It knows only the queue; each domain registers its own tasks (services/worker.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from services.config import Settings, get_settings
from services.jobs.wakeup import WakeupSqliteHuey


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


def periodic_task(schedule: Callable[..., bool], **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.periodic_task`, typed like `task`."""
    return cast(Callable[[Callable[..., Any]], Any], huey.periodic_task(schedule, **options))


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
