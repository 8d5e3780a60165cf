"""The webhooks' jobs: fan an event out after its commit, deliver each delivery (retries scheduled by the
outcome), and every minute pick up anything due that a lost job left behind."""

from __future__ import annotations

import logging

from huey import crontab

from services.db import session_scope
from services.jobs.queue import periodic_task, task
from services.webhooks import delivery, outbox

log = logging.getLogger(__name__)


@task()
def fan_out_event(event_id: int) -> None:
    for delivery_id in delivery.fan_out(event_id):
        deliver_webhook(delivery_id)


@task()
def deliver_webhook(delivery_id: int, replay: bool = False) -> None:
    outcome = delivery.deliver(delivery_id, replay=replay)
    if outcome is not None and outcome.retry_in is not None:
        deliver_webhook.schedule(args=(delivery_id,), delay=outcome.retry_in)


@periodic_task(crontab(minute="*"), period_seconds=60)
def deliver_due_webhooks() -> None:
    with session_scope() as session:
        due = delivery.due(session)
        lost = outbox.unfanned(session)
    for event_id in lost:
        fan_out_event(event_id)
    for delivery_id in due:
        deliver_webhook(delivery_id)


outbox.use_queue(fan_out_event, lambda delivery_id: deliver_webhook(delivery_id, replay=True))
