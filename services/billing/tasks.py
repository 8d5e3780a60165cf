"""The billing domain's jobs: handling stored Stripe events, and the dunning timeline that runs by the clock."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from huey import crontab
from sqlmodel import col, select

from services.billing import local
from services.billing.budgets import roll_free_budgets
from services.billing.handlers import alert_failed, handle, one_billing_writer_at_a_time
from services.billing.lifecycle import enforce_timeline
from services.billing.plan_rollout import advance_rollouts
from services.billing.subscriptions import apply_due_plan_changes
from services.config import get_settings
from services.db import session_scope
from services.jobs.queue import periodic_task, task
from services.models import StripeEvent
from services.models.base import utcnow

log = logging.getLogger(__name__)


RETRIES = 5


@task(retries=RETRIES, retry_delay=10, context=True)
def handle_stripe_event(stripe_event_id: str, replay: bool = False, task: Any = None) -> str:
    """Retried with a delay; when the last retry fails too, staff are alerted (once, however often it fails)."""
    try:
        return handle(stripe_event_id, replay=replay)
    except Exception as exc:
        if task is None or not task.retries:
            alert_failed(stripe_event_id, exc)
        raise


@task()
def handle_stripe_events(stripe_event_ids: list[str]) -> None:
    """A chunk of freshly stored events, in arrival order; one that fails gets its own job with retries."""
    for stripe_event_id in stripe_event_ids:
        try:
            handle(stripe_event_id)
        except Exception:
            log.exception("stripe event %s failed; retrying on its own", stripe_event_id)
            handle_stripe_event.schedule((stripe_event_id,), delay=10)


@periodic_task(crontab(minute="*"), period_seconds=60)
def advance_plan_rollouts() -> None:
    """Plan edits reaching existing subscribers move on a batch a minute (see services.billing.plan_rollout)."""
    with session_scope() as session:
        advance_rollouts(session)


def local_clock_runs() -> bool:
    """Test mode without Stripe keys: the portal's own stand-in keeps Stripe's calendar."""
    settings = get_settings()
    return not settings.stripe_secret_key and settings.test_checkout_enabled


@periodic_task(crontab(minute="*/5"), period_seconds=300)
def enforce_billing_timeline() -> None:
    """Suspension and termination dates pass even when Stripe sends nothing, free plans' budgets start their new
    month; lost handling jobs are re-queued."""
    with one_billing_writer_at_a_time(), session_scope() as session:
        enforce_timeline(session)
        apply_due_plan_changes(session)
        roll_free_budgets(session)
        stale = session.exec(
            select(col(StripeEvent.stripe_id)).where(
                col(StripeEvent.status) == "pending", col(StripeEvent.received_at) < utcnow() - timedelta(minutes=2)
            )
        ).all()
    for stripe_id in stale:
        handle_stripe_event(stripe_id)
    if local_clock_runs():
        local.advance_clock()  # test mode: periods end, renew or cancel, as they do at Stripe
