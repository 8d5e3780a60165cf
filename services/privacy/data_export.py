"""Your data (GDPR art. 15 and 20): everything the portal holds about a person, as a ZIP of JSON and CSV files.

What is in it: the account, its memberships, its sessions (where and with what it signed in), the audit events
about it (done by it, for it, or to it), and for each customer organization whose billing it may see, the
subscription, the invoices and the daily usage. Secrets never (password hash, two-factor secret, token hashes).
Each list is capped, so an old account cannot make one export take the server's memory.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from services.models import (
    AuditEvent,
    AuthSession,
    Instance,
    Invoice,
    Membership,
    Organization,
    OrgKind,
    Plan,
    Subscription,
    UsageDaily,
    User,
)
from services.tenancy.scope import CAPABILITIES

MAX_ROWS = 50_000


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return out.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def export_zip(session: Session, user_id: int) -> bytes:
    """The person's own data; the caller has already established that `user_id` is who is asking."""
    user = session.get(User, user_id)
    if user is None:
        raise LookupError("no such account")
    files: dict[str, str] = {"account.json": json.dumps(_account(user), indent=2)}
    memberships = session.exec(
        select(Membership, Organization)
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(col(Membership.user_id) == user_id)
        .order_by(col(Membership.id))
    ).all()
    files["memberships.csv"] = _csv(
        ("organization", "kind", "role", "since"), ((o.name, o.kind, m.role, m.created_at) for m, o in memberships)
    )
    sessions = session.exec(
        select(AuthSession).where(col(AuthSession.user_id) == user_id).order_by(col(AuthSession.id)).limit(MAX_ROWS)
    ).all()
    files["sessions.csv"] = _csv(
        ("signed_in_at", "expires_at", "ended_at", "ip", "user_agent", "by_staff_for_you"),
        (
            (s.created_at, s.expires_at, s.revoked_at, s.ip, s.user_agent, s.impersonator_id is not None)
            for s in sessions
        ),
    )
    events = session.exec(
        select(AuditEvent)
        .where(
            or_(
                col(AuditEvent.actor_user_id) == user_id,
                col(AuditEvent.on_behalf_of_user_id) == user_id,
                (col(AuditEvent.target_type) == "user") & (col(AuditEvent.target_id) == str(user_id)),
            )
        )
        .order_by(col(AuditEvent.id))
        .limit(MAX_ROWS)
    ).all()
    files["audit_events.csv"] = _csv(
        ("at", "action", "by_you", "for_you", "target", "organization_id", "ip", "details"),
        (
            (
                e.at,
                e.action,
                e.actor_user_id == user_id,
                e.on_behalf_of_user_id == user_id,
                f"{e.target_type or ''}:{e.target_id or ''}",
                e.organization_id,
                e.ip,
                e.details,
            )
            for e in events
        ),
    )
    billing_orgs = [o for m, o in memberships if o.kind == OrgKind.CUSTOMER and m.role in CAPABILITIES["billing"]]
    files.update(_billing_files(session, billing_orgs))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "status": user.status,
        "email_confirmed_at": _plain(user.email_verified_at),
        "two_factor_sign_in": user.totp_enabled_at is not None,
        "created_at": _plain(user.created_at),
        "last_sign_in_at": _plain(user.last_login_at),
    }


def _billing_files(session: Session, orgs: list[Organization]) -> dict[str, str]:
    org_ids = [o.id for o in orgs if o.id is not None]
    subscriptions = session.exec(
        select(Subscription, Plan)
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(col(Subscription.organization_id).in_(org_ids))
        .order_by(col(Subscription.id))
    ).all()
    invoices = session.exec(
        select(Invoice).where(col(Invoice.organization_id).in_(org_ids)).order_by(col(Invoice.id)).limit(MAX_ROWS)
    ).all()
    usage = session.exec(
        select(UsageDaily, Instance)
        .join(Instance, col(Instance.id) == col(UsageDaily.instance_id))
        .where(col(Instance.organization_id).in_(org_ids))
        .order_by(col(UsageDaily.day), col(UsageDaily.id))
        .limit(MAX_ROWS)
    ).all()
    return {
        "subscriptions.json": json.dumps(
            [
                {
                    "plan": p.name,
                    "status": s.status,
                    "current_period_end": _plain(s.current_period_end),
                    "cancel_at_period_end": s.cancel_at_period_end,
                    "canceled_at": _plain(s.canceled_at),
                    "created_at": _plain(s.created_at),
                }
                for s, p in subscriptions
            ],
            indent=2,
        ),
        "invoices.csv": _csv(
            ("issued_at", "number", "status", "currency", "total_minor_units", "paid_minor_units", "link"),
            (
                (i.issued_at, i.number, i.status, i.currency, i.total, i.amount_paid, i.hosted_invoice_url)
                for i in invoices
            ),
        ),
        "usage.csv": _csv(
            ("day", "instance", "model", "tokens_in", "tokens_out", "cost_micros", "records"),
            (
                (u.day, inst.subdomain, u.model, u.tokens_in, u.tokens_out, u.cost_micros, u.records)
                for u, inst in usage
            ),
        ),
    }
