"""The webhooks' jobs: fan an event out after its commit and send what is due, retries scheduled by the outcome,
and every minute pick up anything due that a lost job left behind.

Sending is done by one pump at a time (a hold in the queue's storage): under a burst the jobs that fan events
out do not each send their few deliveries in a batch of their own; the pump that runs takes theirs in its next,
larger batch. A pump looks once more after it lets go, so nothing made meanwhile waits for the sweep.
"""

from __future__ import annotations

import logging
import time

from huey import crontab

from services.db import session_scope
from services.jobs.queue import periodic_task, release_hold, task, try_hold
from services.webhooks import delivery, outbox

log = logging.getLogger(__name__)


PUMP_HOLD = "webhooks.pump"
PUMP_SECONDS = 20.0  # a pump lets go (and takes the hold again) this often, so its hold never looks stale
STALE_SECONDS = 60.0  # a hold this old belonged to a killed consumer


@task()
def fan_out_event(event_id: int) -> None:
    """The event's deliveries are made (with those of every event still waiting, which makes the jobs queued
    behind this one nearly free under a burst), then sent with whatever else is due: a batch, not a job per
    request. `event_id` names the job's event; the job does not depend on it."""
    delivery.fan_out_pending()
    pump_one_at_a_time()


@task()
def pump_webhooks() -> None:
    pump_one_at_a_time()


def pump_one_at_a_time() -> None:
    """Send what is due unless another pump is at it (it will send ours too: it looks again after letting go)."""
    while try_hold(PUMP_HOLD, STALE_SECONDS):
        try:
            outcomes = _drain()
        finally:
            release_hold(PUMP_HOLD)
        _retry_later(outcomes)
        with session_scope() as session:
            if not delivery.due(session, limit=1):
                return


def _drain() -> dict[int, delivery.Outcome]:
    outcomes: dict[int, delivery.Outcome] = {}
    deadline = time.monotonic() + PUMP_SECONDS
    while time.monotonic() < deadline:
        sent = delivery.pump(rounds=1)
        if not sent:
            break
        outcomes.update(sent)
    return outcomes


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
    if due:  # without the hold: a killed pump's hold must not stop the sweep (two pumps at once are safe)
        _retry_later(delivery.pump())


outbox.use_queue(fan_out_event, lambda delivery_id: deliver_webhook(delivery_id, replay=True))
