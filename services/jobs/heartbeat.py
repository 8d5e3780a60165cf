"""Whether a consumer is alive: a periodic heartbeat the health check reads, and a round-trip ping."""

from __future__ import annotations

import os
import socket
import time

from huey import crontab

from services.jobs.queue import huey, periodic_task, task

HEARTBEAT_KEY = "consumer-heartbeat"


@task()
def record_ping(note: str) -> dict[str, object]:
    """Round-trip check used by `portal-admin health` and the consumer tests: proves a consumer runs jobs."""
    return {"note": note, "pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}


@periodic_task(crontab(minute="*"), period_seconds=60)
def heartbeat() -> None:
    """Lets /api/health tell whether a consumer is alive. The consumer's scheduler also runs it right at start."""
    huey.put(HEARTBEAT_KEY, time.time())


def last_heartbeat() -> float | None:
    value = huey.get(HEARTBEAT_KEY, peek=True)
    return float(value) if value is not None else None
