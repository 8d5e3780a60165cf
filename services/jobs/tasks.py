"""Every task and periodic task, in one module the consumer imports."""

from __future__ import annotations

import logging
import os
import socket
import time
from email import message_from_bytes, policy

from huey import crontab
from sqlalchemy import delete, or_

from services.jobs.queue import huey
from services.models.base import utcnow

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "consumer-heartbeat"


@huey.task(retries=5, retry_delay=30)
def deliver_email(raw: bytes) -> None:
    """Retried with a delay, so an SMTP outage delays mail instead of losing it."""
    from services.mail import deliver

    deliver(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]


@huey.task()
def record_ping(note: str) -> dict[str, object]:
    """Round-trip check used by `portal-admin health` and the consumer tests: proves a consumer runs jobs."""
    return {"note": note, "pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}


@huey.periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    """Lets /api/health tell whether a consumer is alive. The consumer's scheduler also runs it right at start."""
    huey.put(HEARTBEAT_KEY, time.time())


@huey.periodic_task(crontab(minute="17", hour="*"))
def purge_expired_sessions() -> int:
    from services.db import session_scope
    from services.models import AuthSession, UserToken

    now = utcnow()
    with session_scope() as session:
        sessions = session.exec(  # type: ignore[call-overload]
            delete(AuthSession).where(or_(AuthSession.expires_at < now, AuthSession.revoked_at.is_not(None)))
        ).rowcount
        tokens = session.exec(delete(UserToken).where(UserToken.expires_at < now)).rowcount  # type: ignore[call-overload]
    log.info("purged %s sessions and %s tokens", sessions, tokens)
    return int(sessions or 0) + int(tokens or 0)


def last_heartbeat() -> float | None:
    value = huey.get(HEARTBEAT_KEY, peek=True)
    return float(value) if value is not None else None


@huey.task()
def run_provisioning_action(action_id: str) -> str:
    """Retries are scheduled by the engine itself (with its own backoff), so huey never retries this task."""
    from services.provisioning.engine import execute

    return execute(action_id)


@huey.periodic_task(crontab(minute="*"))
def reconcile_instances() -> None:
    from services.db import session_scope
    from services.provisioning.prewarm import release_abandoned
    from services.provisioning.reconcile import reconcile, resume_interrupted

    with session_scope() as session:
        resume_interrupted(session)
        release_abandoned(session)
        for finding in reconcile(session):
            if finding.outcome != "ok":
                log.info("reconcile: %s", finding)


@huey.task(retries=5, retry_delay=10)
def handle_stripe_event(stripe_event_id: str, replay: bool = False) -> str:
    from services.billing.handlers import handle

    return handle(stripe_event_id, replay=replay)


@huey.task()
def handle_stripe_events(stripe_event_ids: list[str]) -> None:
    """A chunk of freshly stored events, in arrival order; one that fails gets its own job with retries."""
    from services.billing.handlers import handle

    for stripe_event_id in stripe_event_ids:
        try:
            handle(stripe_event_id)
        except Exception:  # noqa: BLE001 - recorded as failed on the event; retried by its own job
            log.exception("stripe event %s failed; retrying on its own", stripe_event_id)
            handle_stripe_event.schedule((stripe_event_id,), delay=10)


@huey.periodic_task(crontab(minute="*/5"))
def enforce_billing_timeline() -> None:
    """Suspension and termination dates pass even when Stripe sends nothing; lost handling jobs are re-queued."""
    from datetime import timedelta

    from sqlmodel import select

    from services.billing.handlers import one_billing_writer_at_a_time
    from services.billing.lifecycle import enforce_timeline
    from services.db import session_scope
    from services.models import StripeEvent

    with one_billing_writer_at_a_time(), session_scope() as session:
        enforce_timeline(session)
        stale = session.exec(select(StripeEvent.stripe_id).where(
            StripeEvent.status == "pending", StripeEvent.received_at < utcnow() - timedelta(minutes=2))).all()
    for stripe_id in stale:
        handle_stripe_event(stripe_id)


@huey.task(retries=10, retry_delay=2)
def deliver_local_stripe_event(payload: str) -> int:
    """Test mode without Stripe keys: deliver a signed event to our own webhook route, as Stripe would."""
    from services.billing.local import post_signed

    return post_signed(payload)
