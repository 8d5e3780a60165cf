"""Recording that something happened, in the same transaction as the change itself (an outbox): an event is
never sent for a change that was rolled back, and never lost for one that was committed. Fanned out after commit.

The event types, and who hears of them: the organization the event is about, and every seller above it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from services.db import after_commit
from services.models import WebhookEvent
from services.models.base import key, utcnow

EVENT_TYPES = (
    "instance.provisioned",
    "instance.started",
    "instance.stopped",
    "instance.failed",
    "instance.parked",
    "budget.threshold_reached",
    "subscription.past_due",
    "subscription.suspended",
    "subscription.terminated",
    "subscription.reactivated",
    "customer.created",
)


class _Queue:
    fan_out: Callable[[int], object] | None = None
    replay: Callable[[int], object] | None = None


def use_queue(fan_out: Callable[[int], object], replay: Callable[[int], object]) -> None:
    """Connected by services/webhooks/tasks.py at import (the outbox never imports the jobs that import it)."""
    _Queue.fan_out, _Queue.replay = fan_out, replay


def replay_soon(delivery_id: int) -> None:
    """Deliver again at once (after the caller's commit); without a queue the minute's sweep picks it up."""
    if _Queue.replay is not None:
        _Queue.replay(delivery_id)


def emit(session: Session, organization_id: int, type_: str, data: dict[str, Any]) -> WebhookEvent:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type_!r}")
    event = WebhookEvent(
        msg_id=f"msg_{uuid.uuid4().hex}",
        organization_id=organization_id,
        type=type_,
        payload={"type": type_, "timestamp": utcnow().isoformat(), "data": data},
    )
    session.add(event)
    session.flush()
    event_id = key(event)
    after_commit(session, lambda: _fan_out_soon(event_id))
    return event


def _fan_out_soon(event_id: int) -> None:
    """Without a queue (a bare script) the minute's sweep fans it out."""
    if _Queue.fan_out is not None:
        _Queue.fan_out(event_id)


def waiting(session: Session) -> bool:
    """Whether any committed event is not fanned out yet, however young (the pump looks before it stops)."""
    return (
        session.exec(select(col(WebhookEvent.id)).where(col(WebhookEvent.fanned_out_at).is_(None)).limit(1)).first()
        is not None
    )
