"""The provisioning domain's jobs: run an action (the engine schedules its own retries) and reconcile.

Importing this module connects the engine to the job queue (`engine.use_queue`): the engine itself knows only
that something runs its actions later, so it never imports the queue's task modules.
"""

from __future__ import annotations

import logging

from huey import crontab

from services.db import session_scope
from services.jobs.queue import periodic_task, task
from services.ops.history import count_statuses
from services.provisioning import engine
from services.provisioning.backup_schedule import queue_due_backups
from services.provisioning.errors import ProvisioningError
from services.provisioning.operations import regenerate_proxy
from services.provisioning.prewarm import release_abandoned
from services.provisioning.reconcile import reconcile, resume_interrupted
from services.provisioning.watch import watch_backends

log = logging.getLogger(__name__)


@task()
def run_provisioning_action(action_id: str) -> str:
    """Retries are scheduled by the engine itself (with its own backoff), so huey never retries this task."""
    return engine.execute(action_id)


def schedule(action_id: str, delay: float) -> None:
    if delay > 0:
        run_provisioning_action.schedule(args=(action_id,), delay=delay)
    else:
        run_provisioning_action(action_id)


engine.use_queue(schedule)


@periodic_task(crontab(minute="*"), period_seconds=60)
def reconcile_instances() -> None:
    with session_scope() as session:
        resume_interrupted(session)
        release_abandoned(session)
        for finding in reconcile(session):
            if finding.outcome != "ok":
                log.info("reconcile: %s", finding)
    with session_scope() as session:  # the edge, from the database's truth (a lost or manual change is undone)
        try:
            regenerate_proxy(session)
        except ProvisioningError as exc:
            log.warning("the edge could not be brought in step: %s", exc)


@periodic_task(crontab(minute="*"), period_seconds=60)
def watch_engines() -> None:
    """A Docker engine or Coolify server that stops answering is an incident for staff, once."""
    with session_scope() as session:
        watch_backends(session)


@periodic_task(crontab(minute="*/10"), period_seconds=600)
def scheduled_backups() -> None:
    """Every ten minutes: the instances whose plan's backup interval has passed get a backup queued."""
    with session_scope() as session:
        queue_due_backups(session)


@periodic_task(crontab(minute="*/15"), period_seconds=900)
def count_instances_by_status() -> None:
    """Four times an hour: today's count of instances per seller and status, for the console's chart."""
    with session_scope() as session:
        count_statuses(session)
