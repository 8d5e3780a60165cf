"""The domains' jobs: a check at once when a domain is added or its owner asks, the due checks every minute, and
an edge refresh when a proven domain is removed."""

from __future__ import annotations

import logging

from huey import crontab

from services.db import session_scope
from services.domains import checks, edge, queue
from services.jobs.queue import periodic_task, task

log = logging.getLogger(__name__)


@task()
def check_domain_now(domain_id: int) -> str | None:
    return checks.check(domain_id)


@task()
def refresh_edge(instance_id: int | None, organization_id: int) -> None:
    edge.refresh_edge(instance_id, organization_id)


@periodic_task(crontab(minute="*"), period_seconds=60)
def check_due_domains() -> None:
    with session_scope() as session:
        due = checks.due(session)
    for domain_id in due:
        try:
            checks.check(domain_id)
        except Exception:  # one domain's surprise must not starve the others; the next minute tries again
            log.exception("checking domain %s failed", domain_id)


queue.use_queue(check_domain_now, refresh_edge)
