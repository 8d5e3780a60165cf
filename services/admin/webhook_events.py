"""Admin view of received Stripe events: what arrived, what became of it, and a replay of one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services import audit
from services.billing.tasks import handle_stripe_event
from services.db import after_commit
from services.models import StripeEvent
from services.tenancy.scope import Actor, authorise

PAGE_SIZE = 50
STATUSES = ("pending", "processed", "ignored", "failed")


@dataclass(frozen=True)
class EventRow:
    stripe_id: str
    type: str
    status: str
    attempts: int
    error: str
    received_at: str
    processed_at: str


def list_events(
    session: Session, actor: Actor | None, *, status: str = "", page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of events, newest first, and the total matching the filter."""
    authorise(session, actor, "view", action="webhook_events.list", target=("stripe_event", "*"), platform=True)
    query = select(StripeEvent)
    counted = select(func.count()).select_from(StripeEvent)
    if status:
        if status not in STATUSES:
            raise ValueError(f"Unknown status {status!r}.")
        query, counted = (
            query.where(col(StripeEvent.status) == status),
            counted.where(col(StripeEvent.status) == status),
        )
    page = max(page, 1)
    rows = session.exec(
        query.order_by(col(StripeEvent.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    total = session.exec(counted).one()
    return [
        asdict(
            EventRow(
                stripe_id=e.stripe_id,
                type=e.type,
                status=e.status,
                attempts=e.attempts,
                error=e.error or "",
                received_at=e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                processed_at=e.processed_at.strftime("%Y-%m-%d %H:%M:%S") if e.processed_at else "",
            )
        )
        for e in rows
    ], int(total)


def replay_event(session: Session, actor: Actor | None, stripe_id: str, *, ip: str = "") -> None:
    """Queue the event's handler again. Handlers are idempotent: a replay only repairs, it never doubles."""
    checked = authorise(
        session, actor, "billing", action="webhook_events.replay", target=("stripe_event", stripe_id), platform=True
    )
    event = session.exec(select(StripeEvent).where(col(StripeEvent.stripe_id) == stripe_id)).first()
    if event is None:
        raise ValueError(f"No event {stripe_id!r}.")
    audit.record(
        session,
        "webhook_event.replay",
        actor_label=checked.email,
        target=("stripe_event", stripe_id),
        ip=ip,
        details={"type": event.type, "status_before": event.status},
    )
    after_commit(session, lambda: handle_stripe_event(stripe_id, replay=True))
