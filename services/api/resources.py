"""The platform API's reads: every list is limited by the caller's reach (services/api/access.py) in the query
itself and paged by an opaque cursor (the last id seen), so a page costs the same at any depth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from services.api.access import check, instance_for, require_scope, scoped
from services.api.tokens import ApiCaller
from services.customer.instance_control import instance_logs
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import (
    AuditEvent,
    Budget,
    Instance,
    Organization,
    OrgKind,
    Plan,
    Subscription,
    UsageDaily,
    UsageRecord,
)
from services.models.base import utcnow
from services.money import micros_as_decimal
from services.provisioning.urls import instance_url
from services.usage.reports import model_totals, records_csv

MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def decode_cursor(cursor: str | None) -> int | None:
    """A cursor is the last id of the previous page, as the API gave it out (digits only)."""
    if not cursor:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValidationFailed.single("cursor", N_("not a cursor this API gave out"))
    return int(cursor)


def encode_cursor(last_id: int) -> str:
    return str(last_id)


def _page(rows: list[Any], limit: int, to_dict: Any) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([to_dict(r) for r in rows], encode_cursor(rows[-1].id) if more and rows else None)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- serialisers ----------------------------------------------------------------------------------------------------


def organization_dict(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "kind": org.kind,
        "parent_id": org.parent_id,
        "status": org.status,
        "created_at": _iso(org.created_at),
    }


def instance_dict(instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "organization_id": instance.organization_id,
        "subdomain": instance.subdomain,
        "url": instance_url(instance.subdomain, instance.backend, instance.upstream),
        "backend": instance.backend,
        "status": instance.status,
        "desired_state": instance.desired_state,
        "created_at": _iso(instance.created_at),
        "updated_at": _iso(instance.updated_at),
    }


def subscription_dict(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "organization_id": subscription.organization_id,
        "plan_id": subscription.plan_id,
        "status": subscription.status,
        "current_period_end": _iso(subscription.current_period_end),
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "created_at": _iso(subscription.created_at),
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "organization_id": plan.organization_id,
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "price_cents": plan.price_cents,
        "currency": plan.currency,
        "interval": plan.interval,
        "budget_included": str(micros_as_decimal(plan.budget_included_micros)),
        "budget_policy": plan.budget_policy,
        "is_public": plan.is_public,
    }


def usage_record_dict(record: UsageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "instance_id": record.instance_id,
        "model": record.model,
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "cost": str(micros_as_decimal(record.cost_micros)),
        "occurred_at": _iso(record.occurred_at),
        "idempotency_key": record.idempotency_key,
    }


def audit_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "organization_id": event.organization_id,
        "details": event.details,
    }


# --- lists ----------------------------------------------------------------------------------------------------------


def _after(statement: Any, id_column: Any, cursor: str | None) -> Any:
    after = decode_cursor(cursor)
    return statement.where(col(id_column) > after) if after is not None else statement


def organizations(session: Session, caller: ApiCaller, *, cursor: str | None, limit: int, kind: str | None) -> Page:
    require_scope(caller, "customers:read" if caller.actor else "instances:read")
    statement = select(Organization).where(scoped(caller, Organization.id))
    if kind:
        statement = statement.where(col(Organization.kind) == kind)
    rows = session.exec(_after(statement, Organization.id, cursor).order_by(col(Organization.id)).limit(limit + 1))
    return _page(list(rows.all()), limit, organization_dict)


def customers(session: Session, caller: ApiCaller, *, cursor: str | None, limit: int) -> Page:
    require_scope(caller, "customers:read")
    if caller.actor is None:
        return Page([], None)
    statement = select(Organization).where(scoped(caller, Organization.id), col(Organization.kind) == OrgKind.CUSTOMER)
    rows = session.exec(_after(statement, Organization.id, cursor).order_by(col(Organization.id)).limit(limit + 1))
    return _page(list(rows.all()), limit, organization_dict)


def instances(
    session: Session,
    caller: ApiCaller,
    *,
    cursor: str | None,
    limit: int,
    status: str | None,
    organization_id: int | None,
) -> Page:
    require_scope(caller, "instances:read")
    statement = select(Instance).where(scoped(caller, Instance.organization_id))
    if status:
        statement = statement.where(col(Instance.status) == status)
    if organization_id is not None:
        statement = statement.where(col(Instance.organization_id) == organization_id)
    rows = session.exec(_after(statement, Instance.id, cursor).order_by(col(Instance.id)).limit(limit + 1))
    return _page(list(rows.all()), limit, instance_dict)


def instance(session: Session, caller: ApiCaller, instance_id: int) -> dict[str, Any]:
    return instance_dict(instance_for(session, caller, instance_id, "instances:read"))


def logs(session: Session, caller: ApiCaller, instance_id: int, lines: int) -> str:
    found = instance_for(session, caller, instance_id, "instances:read")
    if caller.customer is not None:
        return instance_logs(session, caller.customer, found.id or 0, lines)
    from services.admin.instances import instance_logs as staff_logs

    return staff_logs(session, caller.actor, found.id or 0, lines)


def subscriptions(session: Session, caller: ApiCaller, *, cursor: str | None, limit: int) -> Page:
    require_scope(caller, "billing:read")
    statement = select(Subscription).where(scoped(caller, Subscription.organization_id))
    rows = session.exec(_after(statement, Subscription.id, cursor).order_by(col(Subscription.id)).limit(limit + 1))
    return _page(list(rows.all()), limit, subscription_dict)


def plans(session: Session, caller: ApiCaller) -> list[dict[str, Any]]:
    """Staff: their own organization's plans. Customers: the plans their seller offers."""
    if caller.customer is not None:
        require_scope(caller, "billing:read")
        org = session.get(Organization, caller.customer.organization_id) if caller.customer.organization_id else None
        seller = org.parent_id if org else None
        statement = select(Plan).where(col(Plan.organization_id) == (seller or -1), col(Plan.is_public))
    else:
        require_scope(caller, "customers:read")
        statement = select(Plan).where(col(Plan.organization_id) == caller.organization_id)
    rows = session.exec(statement.where(col(Plan.archived_at).is_(None)).order_by(col(Plan.sort_order))).all()
    return [plan_dict(p) for p in rows]


def audit_events(session: Session, caller: ApiCaller, *, cursor: str | None, limit: int, action: str | None) -> Page:
    require_scope(caller, "audit:read")
    if caller.actor is None:
        return Page([], None)
    statement = select(AuditEvent).where(scoped(caller, AuditEvent.organization_id))
    if action:
        statement = statement.where(col(AuditEvent.action) == action)
    after = decode_cursor(cursor)
    if after is not None:
        statement = statement.where(col(AuditEvent.id) < after)  # newest first
    rows = list(session.exec(statement.order_by(col(AuditEvent.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([audit_dict(e) for e in rows], encode_cursor(rows[-1].id or 0) if more and rows else None)


# --- usage and budget -----------------------------------------------------------------------------------------------


def usage_records(
    session: Session,
    caller: ApiCaller,
    instance_id: int,
    *,
    cursor: str | None,
    limit: int,
    since: datetime | None,
    until: datetime | None,
) -> Page:
    found = instance_for(session, caller, instance_id, "usage:read")
    statement = select(UsageRecord).where(col(UsageRecord.instance_id) == found.id)
    if since is not None:
        statement = statement.where(col(UsageRecord.occurred_at) >= since)
    if until is not None:
        statement = statement.where(col(UsageRecord.occurred_at) < until)
    rows = session.exec(_after(statement, UsageRecord.id, cursor).order_by(col(UsageRecord.id)).limit(limit + 1))
    return _page(list(rows.all()), limit, usage_record_dict)


def usage_daily(session: Session, caller: ApiCaller, instance_id: int, days: int) -> list[dict[str, Any]]:
    """One row per day and model for the last `days` days (the daily rollup the dashboard's charts read)."""
    found = instance_for(session, caller, instance_id, "usage:read")
    first = utcnow().date() - timedelta(days=days - 1)
    rows = session.exec(
        select(UsageDaily)
        .where(col(UsageDaily.instance_id) == found.id, col(UsageDaily.day) >= first)
        .order_by(col(UsageDaily.day), col(UsageDaily.model))
    ).all()
    return [
        {
            "day": r.day.isoformat(),
            "model": r.model,
            "tokens_in": r.tokens_in,
            "tokens_out": r.tokens_out,
            "cost": str(micros_as_decimal(r.cost_micros)),
            "records": r.records,
        }
        for r in rows
    ]


def usage_totals(session: Session, caller: ApiCaller, instance_id: int, since: datetime) -> list[dict[str, str]]:
    found = instance_for(session, caller, instance_id, "usage:read")
    return model_totals(session, found.id or 0, since)


def usage_csv(session: Session, caller: ApiCaller, instance_id: int, since: datetime) -> str:
    found = instance_for(session, caller, instance_id, "usage:read")
    return records_csv(session, found.id or 0, since)


def budget(session: Session, caller: ApiCaller, instance_id: int) -> dict[str, Any]:
    found = instance_for(session, caller, instance_id, "usage:read")
    row = session.exec(select(Budget).where(col(Budget.subscription_id) == found.subscription_id)).first()
    if row is None:
        return {"instance_id": found.id, "total": None, "used": None, "remaining": None, "reset_at": None}
    return {
        "instance_id": found.id,
        "total": str(micros_as_decimal(row.total_micros)),
        "used": str(micros_as_decimal(row.used_micros)),
        "remaining": str(micros_as_decimal(max(0, row.total_micros - row.used_micros))),
        "reset_at": _iso(row.reset_at),
    }


def organization_of(session: Session, caller: ApiCaller, organization_id: int) -> dict[str, Any]:
    org = session.get(Organization, organization_id)
    check(
        session,
        caller,
        "customers:read" if caller.actor else "instances:read",
        target=("organization", organization_id),
        organization_id=org.id if org else None,
    )
    assert org is not None
    return organization_dict(org)
