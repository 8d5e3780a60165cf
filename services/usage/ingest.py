"""Batch ingestion of usage records and the budget check.

Money is integer micros (millionths of the currency unit) from a Decimal, never a float. A batch is all or
nothing: the first malformed record rejects it with a message naming the record and the field. Records carry an
idempotency id, so a retried batch is never counted twice. The budget counter (budget.used_micros) moves in the
same transaction as the records, so the budget check reads one row instead of summing records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.errors import ValidationFailed
from services.gateway.sync import touch
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import Budget, Instance, Plan, Subscription, UsageDaily, UsageRecord
from services.models.base import key, table_of, upsert_insert, utcnow
from services.money import decimal_to_micros, micros_as_decimal
from services.usage.alerts import check_budget

MAX_BATCH = 1000
FUTURE_SLACK = timedelta(minutes=5)
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TOKENS = 10**12  # per record: far beyond any real call, far below the 64-bit counters' limit
MAX_COST = Decimal(1_000_000)  # per record, in currency units
COUNTER_LIMIT = 2**63 - 1  # the database's BIGINT


@dataclass(frozen=True)
class UsageIn:
    key: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_micros: int
    occurred_at: datetime


def _fail(index: int, field: str, message: str) -> ValidationFailed:
    return ValidationFailed.single(f"records[{index}].{field}", message)


def _count(item: dict[str, Any], index: int, field: str) -> int:
    value = item.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise _fail(index, field, f"must be a whole number from 0 to {MAX_TOKENS}")
    return value


def parse_batch(body: Any) -> list[UsageIn]:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise ValidationFailed.single("records", N_("must be a non-empty list of usage records"))
    if len(records) > MAX_BATCH:
        raise ValidationFailed.single("records", say("at most {batch} records per batch", batch=MAX_BATCH))
    parsed, seen = [], set()
    for index, item in enumerate(records):
        if not isinstance(item, dict):
            raise _fail(index, "", "must be an object")
        key = item.get("id")
        if not isinstance(key, str) or not 1 <= len(key) <= 100:
            raise _fail(index, "id", "must be a string of 1 to 100 characters (the idempotency id)")
        if key in seen:
            raise _fail(index, "id", "appears twice in this batch")
        seen.add(key)
        model = item.get("model")
        if not isinstance(model, str) or not 1 <= len(model) <= 100:
            raise _fail(index, "model", "must be a string of 1 to 100 characters")
        raw_cost = item.get("cost")
        if isinstance(raw_cost, bool) or not isinstance(raw_cost, int | Decimal | str):
            raise _fail(index, "cost", 'must be a decimal amount such as "0.0125"')
        try:
            cost = Decimal(str(raw_cost).strip()) if len(str(raw_cost)) <= 40 else Decimal("NaN")
        except InvalidOperation:
            raise _fail(index, "cost", 'must be a decimal amount such as "0.0125"') from None
        exponent = cost.as_tuple().exponent
        if (
            not cost.is_finite()
            or not isinstance(exponent, int)
            or cost.is_signed()
            or cost > MAX_COST
            or exponent < -6
        ):
            raise _fail(index, "cost", f"must be from 0 to {MAX_COST} with at most 6 decimal places")
        raw_time = item.get("occurred_at")
        try:
            if not isinstance(raw_time, str) or len(raw_time) > 40:
                raise ValueError
            occurred = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
            occurred = occurred.astimezone(UTC) if occurred.tzinfo is not None else occurred
        except (ValueError, OverflowError):
            raise _fail(index, "occurred_at", "must be an ISO 8601 time with a time zone") from None
        if occurred.tzinfo is None:
            raise _fail(index, "occurred_at", "must include a time zone")
        if occurred > utcnow() + FUTURE_SLACK:
            raise _fail(index, "occurred_at", "is in the future")
        if occurred < OLDEST:
            raise _fail(index, "occurred_at", f"is before {OLDEST:%Y-%m-%d}")
        parsed.append(
            UsageIn(
                key=key,
                model=model,
                tokens_in=_count(item, index, "tokens_in"),
                tokens_out=_count(item, index, "tokens_out"),
                cost_micros=decimal_to_micros(cost),
                occurred_at=occurred,
            )
        )
    return parsed


def ingest(session: Session, instance_id: int, records: list[UsageIn]) -> tuple[int, int]:
    """Store new records, roll them into usage_daily and the budget counter. Returns (accepted, duplicates)."""
    insert = upsert_insert(session, UsageRecord)
    now = utcnow()
    rows = [
        {
            "instance_id": instance_id,
            "model": r.model,
            "tokens_in": r.tokens_in,
            "tokens_out": r.tokens_out,
            "cost_micros": r.cost_micros,
            "occurred_at": r.occurred_at,
            "idempotency_key": r.key,
            "received_at": now,
        }
        for r in records
    ]
    statement = insert.on_conflict_do_nothing(index_elements=["instance_id", "idempotency_key"]).returning(
        table_of(UsageRecord).c.idempotency_key
    )
    fresh = set(session.execute(statement, rows).scalars().all())
    accepted = [r for r in records if r.key in fresh]
    _roll_up(session, instance_id, accepted)
    total = sum(r.cost_micros for r in accepted)
    budget = _budget(session, instance_id)
    if budget is not None and budget.used_micros + total > COUNTER_LIMIT:
        raise ValidationFailed.single("records", N_("the budget counter would overflow; nothing was recorded"))
    if budget is not None and total:
        session.execute(
            update(Budget).where(col(Budget.id) == budget.id).values(used_micros=col(Budget.used_micros) + total)
        )
        check_budget(session, key(budget))
        touch(session, instance_id)  # moved in SQL: the gateway's rules follow at commit
    return len(accepted), len(records) - len(accepted)


def _roll_up(session: Session, instance_id: int, records: list[UsageIn]) -> None:
    days: dict[tuple[Any, str], list[UsageIn]] = {}
    for r in records:
        days.setdefault((r.occurred_at.date(), r.model), []).append(r)
    for (day, model), items in days.items():
        row = session.exec(
            select(UsageDaily).where(
                col(UsageDaily.instance_id) == instance_id, col(UsageDaily.day) == day, col(UsageDaily.model) == model
            )
        ).first()
        row = row or UsageDaily(instance_id=instance_id, day=day, model=model)
        if (
            max(
                row.tokens_in + sum(i.tokens_in for i in items),
                row.tokens_out + sum(i.tokens_out for i in items),
                row.cost_micros + sum(i.cost_micros for i in items),
            )
            > COUNTER_LIMIT
        ):
            raise ValidationFailed.single(
                "records", say("the totals of {day} for {model} would overflow", day=day, model=model)
            )
        row.tokens_in += sum(i.tokens_in for i in items)
        row.tokens_out += sum(i.tokens_out for i in items)
        row.cost_micros += sum(i.cost_micros for i in items)
        row.records += len(items)
        session.add(row)


def _budget(session: Session, instance_id: int) -> Budget | None:
    return session.exec(
        select(Budget)
        .join(Instance, col(Instance.subscription_id) == col(Budget.subscription_id))
        .where(col(Instance.id) == instance_id)
    ).first()


def budget_status(session: Session, instance_id: int) -> dict[str, Any]:
    """Remaining budget and whether usage is allowed, from the counter (one indexed join, no summing)."""
    row = session.exec(
        select(Budget, Plan)
        .join(Subscription, col(Subscription.id) == col(Budget.subscription_id))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .join(Instance, col(Instance.subscription_id) == col(Subscription.id))
        .where(col(Instance.id) == instance_id)
    ).first()
    if row is None:
        return {"total": "0", "used": "0", "remaining": "0", "allowed": False, "reset_at": None}
    budget, plan = row
    remaining = budget.total_micros - budget.used_micros
    allowed = remaining > 0 or plan.budget_policy == "notify"
    return {
        "total": str(micros_as_decimal(budget.total_micros)),
        "used": str(micros_as_decimal(budget.used_micros)),
        "remaining": str(micros_as_decimal(max(remaining, 0))),
        "allowed": allowed,
        "policy": plan.budget_policy,
        "reset_at": budget.reset_at.isoformat() if budget.reset_at else None,
    }
