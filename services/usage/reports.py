"""What the customer's usage section shows: daily series per model, totals per model, recent records, CSV.

Charts and totals read the per-day rollup (usage_daily: at most days x models rows per instance), never the raw
records, so their cost does not grow with the number of records. Recent records page through the
(instance_id, occurred_at) index with a limit, and the CSV export streams the raw records of one period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.i18n import format_date
from services.models import UsageDaily, UsageRecord
from services.models.base import utcnow
from services.money import micros_as_decimal

CHART_DAYS = 30
PAGE_SIZE = 20
MAX_PAGE = 500  # deep pages are what the CSV export is for


def money(micros: int) -> str:
    """Micros as a decimal string with the precision usage is billed at (never a float)."""
    return f"{micros_as_decimal(micros):.4f}"


@dataclass(frozen=True)
class DailySeries:
    """One row per day (oldest first) with a cost and a token figure per model; models in a stable order."""

    models: list[str]
    cost_rows: list[dict[str, object]]
    token_rows: list[dict[str, object]]


def newest_lag(session: Session, instance_id: int) -> str:
    """How long the newest usage record took from the call to the portal ("" before any), e.g. "1.2 s"."""
    row = session.exec(
        select(UsageRecord.occurred_at, UsageRecord.received_at)
        .where(col(UsageRecord.instance_id) == instance_id)
        .order_by(col(UsageRecord.occurred_at).desc())  # the (instance_id, occurred_at) index: one row read
        .limit(1)
    ).first()
    if row is None:
        return ""
    seconds = max(0.0, (row[1] - row[0]).total_seconds())
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def daily_series(
    session: Session, instance_id: int, days: int = CHART_DAYS, today: date | None = None, language: str = "en"
) -> DailySeries:
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    rows = session.exec(
        select(UsageDaily).where(
            col(UsageDaily.instance_id) == instance_id, col(UsageDaily.day) >= first, col(UsageDaily.day) <= today
        )
    ).all()
    models = sorted({r.model for r in rows})
    by_day: dict[date, list[UsageDaily]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    cost_rows, token_rows = [], []
    for offset in range(days):
        day = first + timedelta(days=offset)
        label = format_date(day, language, pattern="dd MMM")  # the chart's axis, in the page's language
        cost: dict[str, object] = {"day": label}
        tokens: dict[str, object] = {"day": label}
        for model in models:
            cost[model], tokens[model] = 0.0, 0
        for row in by_day.get(day, []):
            # chart coordinates only: the figures people read are the decimal strings in totals and the table
            cost[row.model] = float(micros_as_decimal(row.cost_micros))
            tokens[row.model] = row.tokens_in + row.tokens_out
        cost_rows.append(cost)
        token_rows.append(tokens)
    return DailySeries(models=models, cost_rows=cost_rows, token_rows=token_rows)


def model_totals(session: Session, instance_id: int, since: datetime) -> list[dict[str, str]]:
    """Totals per model from the first day of the period (the rollup is per day, so the whole first day counts)."""
    rows = session.execute(
        sa_select(
            col(UsageDaily.model),
            func.sum(col(UsageDaily.tokens_in)),
            func.sum(col(UsageDaily.tokens_out)),
            func.sum(col(UsageDaily.cost_micros)),
            func.sum(col(UsageDaily.records)),
        )
        .where(col(UsageDaily.instance_id) == instance_id, col(UsageDaily.day) >= since.date())
        .group_by(col(UsageDaily.model))
        .order_by(func.sum(col(UsageDaily.cost_micros)).desc())
    ).all()
    return [
        {
            "model": model,
            "tokens_in": f"{int(t_in or 0):,}",
            "tokens_out": f"{int(t_out or 0):,}",
            "cost": money(int(cost or 0)),
            "records": f"{int(count or 0):,}",
        }
        for model, t_in, t_out, cost, count in rows
    ]


def recent_records(
    session: Session, instance_id: int, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[dict[str, str]], bool]:
    """Newest first; returns the page and whether there is a next one (one extra row, no COUNT over records)."""
    page = min(max(1, page), MAX_PAGE)
    rows = session.exec(
        select(UsageRecord)
        .where(col(UsageRecord.instance_id) == instance_id)
        .order_by(col(UsageRecord.occurred_at).desc(), col(UsageRecord.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    ).all()
    return [_record_row(r) for r in rows[:page_size]], len(rows) > page_size


def _record_row(record: UsageRecord) -> dict[str, str]:
    return {
        "id": record.idempotency_key,
        "model": record.model,
        "occurred_at": record.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        "tokens_in": str(record.tokens_in),
        "tokens_out": str(record.tokens_out),
        "cost": money(record.cost_micros),
    }


CSV_COLUMNS = ("occurred_at", "model", "tokens_in", "tokens_out", "cost", "id")


def records_csv(session: Session, instance_id: int, since: datetime) -> str:
    """Every record of the period, oldest first, for the customer's own bookkeeping."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in _iter_records(session, instance_id, since):
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def _iter_records(session: Session, instance_id: int, since: datetime, chunk: int = 5000) -> Iterator[dict[str, str]]:
    statement = (
        select(UsageRecord)
        .where(col(UsageRecord.instance_id) == instance_id, col(UsageRecord.occurred_at) >= since)
        .order_by(col(UsageRecord.occurred_at), col(UsageRecord.id))
        .execution_options(yield_per=chunk)
    )
    for record in session.exec(statement):
        yield _record_row(record)
