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
    """The event's deliveries are made, then sent with whatever else is due (a batch, not a job per request)."""
    delivery.fan_out(event_id)
    _retry_later(delivery.pump())


@task()
def pump_webhooks() -> None:
    _retry_later(delivery.pump())


@task()
def deliver_webhook(delivery_id: int, replay: bool = False) -> None:
    _retry_later(delivery.deliver_many([delivery_id], replay=replay))


def _retry_later(outcomes: dict[int, delivery.Outcome]) -> None:
    """One pump when the soonest retry is due (the others due by then go with it; the sweep catches the rest)."""
    waits = [o.retry_in for o in outcomes.values() if o.retry_in is not None]
    if waits:
        pump_webhooks.schedule(delay=min(waits))


@periodic_task(crontab(minute="*"), period_seconds=60)
def deliver_due_webhooks() -> None:
    with session_scope() as session:
        due = delivery.due(session)
        lost = outbox.unfanned(session)
    for event_id in lost:
        fan_out_event(event_id)
    if due:
        _retry_later(delivery.pump())


outbox.use_queue(fan_out_event, lambda delivery_id: deliver_webhook(delivery_id, replay=True))
