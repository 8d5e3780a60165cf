"""The webhooks' jobs: fan an event out after its commit and send what is due, retries scheduled by the outcome,
and every minute pick up anything due that a lost job left behind.

Fanning out and sending are done by one pump at a time (a hold in the queue's storage): under a burst the jobs
of new events do not each fan out and send a few deliveries of their own; the pump that runs takes their events
in its next round and sends their deliveries in one larger batch. A pump looks once more after it lets go, so
nothing committed meanwhile waits for the sweep.
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
    """The pump fans out every waiting event in each of its rounds, then sends what is due: a job that finds the
    pump busy has nothing to do (under a burst, one Redis call), and one that finds it free becomes the pump.
    `event_id` names the job's event; the job does not depend on it."""
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
            if not (outbox.waiting(session) or delivery.due(session, limit=1)):
                return


def _drain() -> dict[int, delivery.Outcome]:
    """Rounds of fan-out then send until a round finds nothing (or the pump's time is up)."""
    outcomes: dict[int, delivery.Outcome] = {}
    deadline = time.monotonic() + PUMP_SECONDS
    while time.monotonic() < deadline:
        made = delivery.fan_out_pending()
        sent = delivery.pump(rounds=1)
        if not made and not sent:
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
    """Whatever a lost job left (events never fanned out, deliveries due) goes out within the minute, through the
    pump's hold: never a second pump beside a live one, and a killed pump's hold is taken over once stale."""
    pump_one_at_a_time()


outbox.use_queue(fan_out_event, lambda delivery_id: deliver_webhook(delivery_id, replay=True))
