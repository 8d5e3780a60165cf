"""The gateway's periodic repair: every live key's rules written again, every dead key forgotten (services/gateway/
sync.py). Changes reach the cache within a second through the commit hook; this covers what that cannot (a
flushed Redis, a process killed between a commit and its write)."""

from __future__ import annotations

from huey import crontab

from services.gateway.sync import enabled, sync_all
from services.jobs.queue import periodic_task


@periodic_task(crontab(minute="*"), period_seconds=60)
def sync_gateway_keys() -> None:
    if enabled():
        sync_all()
