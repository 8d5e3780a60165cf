"""The backup schedule's clock."""

from __future__ import annotations

from huey import crontab

from services.backups.schedule import queue_due_backups
from services.db import session_scope
from services.jobs.queue import periodic_task


@periodic_task(crontab(minute="*/10"), period_seconds=600)
def scheduled_backups() -> None:
    """Every ten minutes: the instances whose plan's backup interval has passed get a backup queued."""
    with session_scope() as session:
        queue_due_backups(session)
