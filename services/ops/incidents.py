"""Staff alerts: one e-mail per incident (not one per retry) and a notice in the console until it is resolved.

An incident is opened where something breaks for good: an action parks, a Stripe event runs out of retries, a
Docker engine or Coolify server stops answering. The platform's staff hear of every incident; a reseller's staff
also hear of those that concern their own customers, in their own brand. The same thing breaking again while
its incident is open only counts an occurrence; once it works again the incident is resolved, and the next
failure is a new incident with a new e-mail.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from services.mail.outgoing import send_after_commit
from services.models import Incident, Membership, Organization, OrgKind, User
from services.models.base import upsert_insert, utcnow
from services.ops import metrics
from services.tenancy.licences import sellers_above
from services.tenancy.scope import CAPABILITIES, Actor, visible

log = logging.getLogger(__name__)

ACTION_PARKED = "action_parked"
WEBHOOK_FAILED = "webhook_failed"
BACKEND_DOWN = "backend_down"
KINDS = (ACTION_PARKED, WEBHOOK_FAILED, BACKEND_DOWN)
ALERTED_ROLES = CAPABILITIES["instances"]  # owners, admins and support: the people who can act on it
SHOWN = 50  # open incidents the console lists at most


@dataclass(frozen=True)
class Notice:
    """What the console shows of an open incident."""

    id: int
    kind: str
    title: str
    detail: str
    occurrences: int
    opened_at: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def raise_incident(
    session: Session, kind: str, key: str, *, title: str, detail: str = "", organization_id: int | None = None
) -> bool:
    """Open an incident, or count another occurrence of the open one. True when it is new (and staff are told).

    Written in the caller's transaction: the e-mails go out once it commits, and not at all if it rolls back.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown incident kind {kind!r}")
    now = utcnow()
    values = {
        "kind": kind,
        "key": key[:200],
        "organization_id": organization_id,
        "title": title[:200],
        "detail": detail[:2000],
        "occurrences": 1,
        "opened_at": now,
        "last_seen_at": now,
    }
    # one statement decides, against the partial unique index, whether this is new: two workers raising the same
    # incident at once open it once (and no SAVEPOINT, which SQLite's driver would commit on its own)
    opened = session.execute(
        upsert_insert(session, Incident)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "key"], index_where=text("resolved_at IS NULL"))
    )
    if getattr(opened, "rowcount", 0) == 1:  # a CursorResult for an INSERT
        incident = _open(session, kind, key)
        assert incident is not None
        log.warning("incident opened: %s %s: %s", kind, key, title)
        metrics.INCIDENTS_OPENED.labels(kind).inc()
        _alert(session, incident)
        return True
    existing = _open(session, kind, key)
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at, existing.detail = now, (detail or existing.detail)[:2000]
        session.add(existing)
    return False


def resolve_incident(session: Session, kind: str, key: str) -> bool:
    """The thing works again: its open incident (if any) is closed, so a later failure alerts anew."""
    existing = _open(session, kind, key)
    if existing is None:
        return False
    existing.resolved_at = utcnow()
    session.add(existing)
    log.info("incident resolved: %s %s", kind, key)
    return True


def open_notices(session: Session, actor: Actor) -> list[Notice]:
    """The console's notices: open incidents in the actor's part of the tree (platform-wide ones for platform
    staff only), newest first."""
    query = select(Incident).where(col(Incident.resolved_at).is_(None))
    if not actor.is_platform:
        query = query.where(visible(actor, col(Incident.organization_id)))
    rows = session.exec(query.order_by(col(Incident.opened_at).desc()).limit(SHOWN)).all()
    return [
        Notice(
            id=int(row.id or 0),
            kind=row.kind,
            title=row.title,
            detail=row.detail,
            occurrences=row.occurrences,
            opened_at=row.opened_at.strftime("%d %b %Y %H:%M UTC"),
        )
        for row in rows
    ]


def recipients(session: Session, organization_id: int | None) -> list[tuple[str, int | None]]:
    """(e-mail, brand organization) of everyone to tell: platform staff in the platform's brand, and the staff of
    each reseller above the customer in that reseller's brand. Active accounts only, each address once."""
    platform = session.exec(select(col(Organization.id)).where(col(Organization.kind) == OrgKind.PLATFORM)).all()
    groups: list[tuple[list[int], int | None]] = [([int(i) for i in platform if i is not None], None)]
    groups += [([int(seller.id or 0)], seller.id) for seller in sellers_above(session, organization_id)]
    seen: set[str] = set()
    result: list[tuple[str, int | None]] = []
    for org_ids, brand_org in groups:
        emails = session.exec(
            select(col(User.email))
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(
                col(Membership.organization_id).in_(org_ids),
                col(Membership.role).in_(ALERTED_ROLES),
                col(User.status) == "active",
            )
            .order_by(col(Membership.id))
        ).all()
        for email in emails:
            if email.lower() not in seen:
                seen.add(email.lower())
                result.append((email, brand_org))
    return result


def _open(session: Session, kind: str, key: str) -> Incident | None:
    return session.exec(
        select(Incident).where(
            col(Incident.kind) == kind, col(Incident.key) == key[:200], col(Incident.resolved_at).is_(None)
        )
    ).first()


def _alert(session: Session, incident: Incident) -> None:
    context = {"title": incident.title, "detail": incident.detail, "kind": incident.kind.replace("_", " ")}
    for email, brand_org in recipients(session, incident.organization_id):
        send_after_commit(session, "staff_incident", email, context, organization_id=brand_org)
