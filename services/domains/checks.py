"""Proving claimed domains step by step, and keeping them proven.

One check of a domain: ask DNS (services/domains/proof.py); a new proof routes the domain at the edge; then a
request over HTTPS through the edge shows whether the certificate was issued and the instance (or the portal)
answers. Unproven domains are looked at again with backoff (DOMAIN_CHECK_SECONDS doubling up to
DOMAIN_CHECK_MAX_SECONDS) until DOMAIN_GIVE_UP_HOURS; proven ones every DOMAIN_RECHECK_MINUTES. A domain whose
records disappear keeps serving for DOMAIN_GRACE_HOURS while its owner is told, then stops: its route goes and
the edge's `ask` endpoint refuses it. Each status change the owner must act on is e-mailed once.

Checks run in the job queue (services/domains/tasks.py): every minute for the domains that are due, and at once
when a domain is added or its owner presses "Check now".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.branding.brand import portal_url
from services.config import get_settings
from services.db import session_scope
from services.domains import proof
from services.domains.claims import target_for
from services.domains.edge import EdgeState, refresh_edge, served_state
from services.mail.outgoing import send_after_commit
from services.models import Domain, DomainStatus, Instance
from services.models.base import key, utcnow
from services.tenancy.orgs import owner_user

log = logging.getLogger(__name__)

LOCAL_SUFFIX = ".localhost"
TAKEN = "{host} has been proven by another account first. Remove it here, or ask them to remove theirs."


@dataclass(frozen=True)
class Outcome:
    domain_id: int
    instance_id: int | None
    organization_id: int
    edge_changed: bool
    look_at_edge: bool


def due(session: Session, limit: int = 200) -> list[int]:
    """Domains whose next look is due, the longest waiting first."""
    return [
        i
        for i in session.exec(
            select(col(Domain.id))
            .where(col(Domain.next_check_at).is_not(None), col(Domain.next_check_at) <= utcnow())
            .order_by(col(Domain.next_check_at))
            .limit(limit)
        ).all()
        if i is not None
    ]


def check(domain_id: int) -> str | None:
    """One look at a domain; returns its status afterwards (None when it no longer exists)."""
    try:
        outcome = _prove(domain_id)
    except IntegrityError:  # another claim on the host was proven in the same moment: the first commit won
        with session_scope() as session:
            row = session.get(Domain, domain_id)
            if row is not None:
                _stop_checking(row, DomainStatus.FAILED, TAKEN.format(host=row.hostname))
                session.add(row)
        return DomainStatus.FAILED
    if outcome is None:
        return None
    if outcome.edge_changed:
        refresh_edge(outcome.instance_id, outcome.organization_id)
    if outcome.look_at_edge:
        _look_at_edge(outcome.domain_id)
    with session_scope() as session:
        row = session.get(Domain, domain_id)
        return row.status if row else None


def _local_finding(hostname: str) -> proof.Finding | None:
    """A `.localhost` name only ever reaches this machine: outside production it needs (and has) no DNS."""
    if hostname.endswith(LOCAL_SUFFIX) and get_settings().environment != "production":
        return proof.Finding(True, "")
    return None


def _prove(domain_id: int) -> Outcome | None:
    settings = get_settings()
    with session_scope() as session:
        row = session.exec(select(Domain).where(col(Domain.id) == domain_id).with_for_update()).first()
        if row is None:
            return None
        now = utcnow()
        finding = _local_finding(row.hostname) or proof.prove(row.hostname, row.token, target_for(session, row))
        row.checked_at = now
        edge_changed = look_at_edge = False
        if row.verified_at is None:
            if finding.ok and _proven_elsewhere(session, row):
                _stop_checking(row, DomainStatus.FAILED, TAKEN.format(host=row.hostname))
            elif finding.ok:
                row.verified_at, row.failing_since = now, None
                row.status, row.message = DomainStatus.VERIFIED, "Proven. Setting up HTTPS."
                _next_look(row, now, settings.domain_check_seconds, reset=True)
                edge_changed = look_at_edge = True
            elif now - row.created_at > timedelta(hours=settings.domain_give_up_hours):
                _stop_checking(
                    row,
                    DomainStatus.FAILED,
                    f"Not proven within {settings.domain_give_up_hours:g} hours. {finding.message} "
                    "Fix the records, then press Check now.",
                )
                _tell_owner(session, row)
            else:
                row.status = DomainStatus.WAITING_DNS if finding.waiting else DomainStatus.WRONG_RECORDS
                row.message = finding.message
                _next_look(row, now, row.check_delay_seconds * 2)
        elif finding.ok:
            recovered = row.failing_since is not None
            row.failing_since = None
            if recovered:
                row.status, row.message = DomainStatus.VERIFIED, "Proven again."
            look_at_edge = True
            _next_look(row, now, settings.domain_check_seconds, reset=True)
        else:
            edge_changed = _failing(session, row, finding, now)
        session.add(row)
        return Outcome(key(row), row.instance_id, row.organization_id, edge_changed, look_at_edge)


def _failing(session: Session, row: Domain, finding: proof.Finding, now: datetime) -> bool:
    """A proven domain that stopped proving: served through the grace period, then not. True when it lapsed."""
    settings = get_settings()
    if row.failing_since is None:
        row.failing_since = now
        row.status = DomainStatus.FAILING
        row.message = finding.message
        _tell_owner(session, row)
    ends = row.failing_since + timedelta(hours=settings.domain_grace_hours)
    if now >= ends:
        row.verified_at, row.failing_since, row.created_at = None, None, now
        row.status = DomainStatus.FAILED
        row.message = f"Stopped serving on {now:%d %b %Y %H:%M} UTC: {finding.message}"
        _next_look(row, now, settings.domain_check_max_seconds, reset=True)
        _tell_owner(session, row)
        return True
    row.status = DomainStatus.FAILING
    row.message = f"{finding.message} It keeps serving until {ends:%d %b %Y %H:%M} UTC."
    remaining = (ends - now).total_seconds()
    _next_look(row, now, min(max(row.check_delay_seconds * 2, settings.domain_check_seconds), remaining))
    return False


def _look_at_edge(domain_id: int) -> None:
    """Certificate and answer, seen from outside; recorded as the domain's status."""
    with session_scope() as session:
        row = session.get(Domain, domain_id)
        if row is None or row.verified_at is None:
            return
        instance = session.get(Instance, row.instance_id) if row.instance_id else None
        hostname = row.hostname
    state = served_state(hostname, instance)
    settings = get_settings()
    with session_scope() as session:
        row = session.get(Domain, domain_id)
        if row is None or row.verified_at is None or row.failing_since is not None:
            return
        row.status, row.message = state.status, state.message
        if state.status == DomainStatus.SERVING:
            row.next_check_at = utcnow() + timedelta(minutes=settings.domain_recheck_minutes)
        session.add(row)


def _proven_elsewhere(session: Session, row: Domain) -> bool:
    return (
        session.exec(
            select(col(Domain.id)).where(
                col(Domain.hostname) == row.hostname, col(Domain.verified_at).is_not(None), col(Domain.id) != row.id
            )
        ).first()
        is not None
    )


def _next_look(row: Domain, now: datetime, delay: float, *, reset: bool = False) -> None:
    settings = get_settings()
    delay = max(1.0, min(delay, settings.domain_check_max_seconds))
    row.check_delay_seconds = settings.domain_check_seconds if reset else delay
    row.next_check_at = now + timedelta(seconds=delay)


def _stop_checking(row: Domain, status: str, message: str) -> None:
    row.status, row.message, row.next_check_at = status, message, None


def _tell_owner(session: Session, row: Domain) -> None:
    """One e-mail per change the owner must act on, in their seller's brand."""
    owner = owner_user(session, row.organization_id)
    if owner is None:
        return
    send_after_commit(
        session,
        "domain_status",
        owner.email,
        {
            "hostname": row.hostname,
            "problem": row.message,
            "dashboard_url": f"{portal_url(session, row.organization_id)}/dashboard",
        },
        organization_id=row.organization_id,
    )


__all__ = ["EdgeState", "check", "due"]
