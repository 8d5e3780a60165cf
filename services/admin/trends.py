"""The console's charts: how the business moved over the last months, weeks and days, for the actor's own subtree.

Each chart is a `Series`: one row per period with the numbers the picture draws, and the same numbers as the
table beside it and the CSV behind its download button, so a screen reader and a spreadsheet get exactly what
the chart shows. Money is counted in integer cents; only the chart's drawing gets units as a float.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import Day, localise, say
from services.models import (
    Instance,
    InstanceStatusDay,
    Organization,
    OrgKind,
    Plan,
    ProvisioningAction,
    StripeEvent,
    Subscription,
)
from services.models.base import utcnow
from services.money import format_cents
from services.provisioning.actions import PROVISION
from services.tenancy.scope import Actor, authorise, visible

MONTHS = 12
WEEKS = 12
DAYS = 30
HOURS = 24
NEVER_PAID = ("incomplete", "incomplete_expired")


@dataclass
class Series:
    """One chart: `rows` for the picture (numbers), `table` for people and CSV (the same numbers, formatted)."""

    name: str
    title: str
    keys: list[str]  # the drawn quantities, in the order of `headings[1:]`
    headings: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    table: list[list[Any]] = field(default_factory=list)  # text, or a Day written in the reader's language
    kind: str = "bar"  # bar | line

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headings)
        writer.writerows(self.table)
        return out.getvalue()

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        """The chart as the console shows it: its title, headings and periods in `language`."""

        def said(value: object) -> Any:
            return str(localise(value, language)) if isinstance(value, str | Day) else value

        return {
            "name": self.name,
            "title": said(self.title),
            "keys": self.keys,
            "headings": [said(h) for h in self.headings],
            "rows": [{k: said(v) for k, v in row.items()} for row in self.rows],
            "table": [[said(cell) for cell in row] for row in self.table],
            "kind": self.kind,
        }


def _month_starts(now: datetime) -> list[datetime]:
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    starts = [first]
    for _ in range(MONTHS - 1):
        previous = starts[-1] - timedelta(days=1)
        starts.append(datetime(previous.year, previous.month, 1, tzinfo=UTC))
    return starts[::-1]


def _week_starts(now: datetime) -> list[datetime]:
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), tzinfo=UTC)
    return [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _monthly_cents(price_cents: int, interval: str) -> int:
    return price_cents // 12 if interval == "year" else price_cents


def mrr(session: Session, actor: Actor, now: datetime) -> Series:
    """Monthly recurring revenue as each month closes (this month: now): every subscription that was paid for and
    not yet cancelled at that moment, at its plan's price a month (a yearly plan counts a twelfth)."""
    subscriptions = session.execute(
        sa_select(
            col(Subscription.created_at),
            col(Subscription.canceled_at),
            col(Subscription.terminated_at),
            col(Plan.price_cents),
            col(Plan.currency),
            col(Plan.interval),
        )
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(
            col(Subscription.status).not_in(NEVER_PAID),
            col(Plan.price_cents) > 0,
            visible(actor, col(Subscription.organization_id)),
        )
    ).all()
    currencies = sorted({str(c).lower() for *_, c, _ in subscriptions}) or ["usd"]
    series = Series(
        "mrr",
        N_("Monthly recurring revenue, last 12 months"),
        [c.upper() for c in currencies],
        [N_("Month")] + [say("MRR ({currency})", currency=c.upper()) for c in currencies],
    )
    starts = _month_starts(now)
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else now
        cents: dict[str, int] = dict.fromkeys(currencies, 0)
        for created, canceled, terminated, price, currency, interval in subscriptions:
            ended = min((t for t in (canceled, terminated) if t is not None), default=None)
            if created < end and (ended is None or ended >= end):
                cents[str(currency).lower()] += _monthly_cents(int(price), str(interval))
        label = Day(start.date(), "MMM yyyy")
        series.rows.append({"period": label, **{c.upper(): cents[c] / 100 for c in currencies}})
        series.table.append([label] + [format_cents(cents[c], c) for c in currencies])
    return series


def signups(session: Session, actor: Actor, now: datetime) -> Series:
    """New customer organizations and cancelled subscriptions per week (weeks start on Monday, UTC)."""
    starts = _week_starts(now)
    created = session.exec(
        select(col(Organization.created_at)).where(
            col(Organization.kind) == OrgKind.CUSTOMER,
            col(Organization.created_at) >= starts[0],
            visible(actor, col(Organization.id)),
        )
    ).all()
    cancelled = session.exec(
        select(col(Subscription.canceled_at)).where(
            col(Subscription.canceled_at) >= starts[0], visible(actor, col(Subscription.organization_id))
        )
    ).all()
    series = Series(
        "signups",
        N_("Signups and cancellations per week"),
        ["signups", "cancellations"],
        [N_("Week of"), N_("Signups"), N_("Cancellations")],
    )
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else now + timedelta(seconds=1)
        joined = sum(1 for t in created if start <= t < end)
        left = sum(1 for t in cancelled if t is not None and start <= t < end)
        label = Day(start.date(), "dd MMM")
        series.rows.append({"period": label, "signups": joined, "cancellations": left})
        series.table.append([label, str(joined), str(left)])
    return series


def instances_by_status(session: Session, actor: Actor, now: datetime) -> Series:
    """Instances per status at each day's last count (kept by a task four times an hour); today is counted now."""
    today = now.date()
    first = today - timedelta(days=DAYS - 1)
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, status, count in session.exec(
        select(col(InstanceStatusDay.day), col(InstanceStatusDay.status), func.sum(col(InstanceStatusDay.count)))
        .where(
            col(InstanceStatusDay.day) >= first,
            col(InstanceStatusDay.day) < today,
            visible(actor, col(InstanceStatusDay.seller_id)),
        )
        .group_by(col(InstanceStatusDay.day), col(InstanceStatusDay.status))
    ).all():
        counts[day][status] += int(count or 0)
    for status, count in session.exec(
        select(col(Instance.status), func.count())
        .where(visible(actor, col(Instance.organization_id)))
        .group_by(col(Instance.status))
    ).all():
        counts[today][status] += int(count)
    statuses = sorted({s for day in counts.values() for s, n in day.items() if n})
    series = Series("instances", N_("Instances by status, last 30 days"), statuses, [N_("Day"), *statuses], kind="line")
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        label = Day(day, "dd MMM")
        if day not in counts:  # no count was kept that day (before this version, or the worker was down)
            continue
        series.rows.append({"period": label, **{s: counts[day].get(s, 0) for s in statuses}})
        series.table.append([label] + [str(counts[day].get(s, 0)) for s in statuses])
    return series


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def provisioning(session: Session, actor: Actor, now: datetime) -> Series:
    """New instances per week: how many were provisioned, how many parked (staff had to step in), the success
    rate, and the p95 of the time from the request to a running instance (what the customer waited)."""
    starts = _week_starts(now)
    finished = session.exec(
        select(col(ProvisioningAction.status), col(ProvisioningAction.created_at), col(ProvisioningAction.finished_at))
        .join(Instance, col(Instance.id) == col(ProvisioningAction.instance_id))
        .where(
            col(ProvisioningAction.action) == PROVISION,
            col(ProvisioningAction.status).in_(("succeeded", "parked")),
            col(ProvisioningAction.finished_at) >= starts[0],
            visible(actor, col(Instance.organization_id)),
        )
    ).all()
    series = Series(
        "provisioning",
        N_("Provisioning per week: success rate and p95 duration"),
        ["succeeded", "parked", "success_rate", "p95_seconds"],
        [N_("Week of"), N_("Succeeded"), N_("Parked"), N_("Success rate (%)"), N_("p95 duration (s)")],
    )
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else now + timedelta(seconds=1)
        week = [(s, c, f) for s, c, f in finished if f is not None and start <= f < end]
        ok = [(f - c).total_seconds() for s, c, f in week if s == "succeeded"]
        parked = len(week) - len(ok)
        rate = round(100.0 * len(ok) / len(week), 1) if week else None
        p95 = round(_p95(ok), 1) if ok else None
        label = Day(start.date(), "dd MMM")
        series.rows.append(
            {"period": label, "succeeded": len(ok), "parked": parked, "success_rate": rate, "p95_seconds": p95}
        )
        shown = ["" if v is None else f"{v:.1f}" for v in (rate, p95)]
        series.table.append([label, str(len(ok)), str(parked), *shown])
    return series


def webhook_backlog(session: Session, actor: Actor, now: datetime) -> Series:
    """Stripe events received per hour over the last day, and how many were still waiting at each hour's end."""
    del actor  # the platform's own: `trends` offers it to platform staff only
    hour = now.replace(minute=0, second=0, microsecond=0)
    starts = [hour - timedelta(hours=n) for n in range(HOURS - 1, -1, -1)]
    events = session.exec(
        select(col(StripeEvent.received_at), col(StripeEvent.processed_at)).where(
            or_(
                col(StripeEvent.received_at) >= starts[0],
                col(StripeEvent.processed_at).is_(None),
                col(StripeEvent.processed_at) >= starts[0],
            )
        )
    ).all()
    series = Series(
        "webhooks",
        N_("Stripe webhook events per hour and the backlog at each hour's end"),
        ["received", "waiting"],
        [N_("Hour (UTC)"), N_("Received"), N_("Waiting")],
    )
    for start in starts:
        end = min(start + timedelta(hours=1), now)
        received = sum(1 for r, _ in events if start <= r < end)
        waiting = sum(1 for r, p in events if r <= end and (p is None or p > end))
        label = start.strftime("%H:00")
        series.rows.append({"period": label, "received": received, "waiting": waiting})
        series.table.append([label, str(received), str(waiting)])
    return series


CHARTS: dict[str, Callable[[Session, Actor, datetime], Series]] = {
    "mrr": mrr,
    "signups": signups,
    "instances": instances_by_status,
    "provisioning": provisioning,
    "webhooks": webhook_backlog,
}
PLATFORM_ONLY = {"webhooks"}


def _allowed(actor: Actor) -> Iterable[str]:
    return [name for name in CHARTS if actor.is_platform or name not in PLATFORM_ONLY]


def trends(
    session: Session, actor: Actor | None, now: datetime | None = None, language: str = "en"
) -> list[dict[str, Any]]:
    """Every chart the actor may see, for their own subtree, in `language`."""
    checked = authorise(session, actor, "view", action="admin.trends", target=("organization", "*"))
    moment = now or utcnow()
    return [CHARTS[name](session, checked, moment).to_dict(language) for name in _allowed(checked)]


def trend_csv(session: Session, actor: Actor | None, name: str, now: datetime | None = None) -> tuple[str, str]:
    """One chart's numbers as CSV: (file name, text)."""
    if name not in CHARTS:
        raise ValidationFailed.single("chart", N_("There is no such chart."))
    checked = authorise(
        session, actor, "view", action="admin.trends.csv", target=("chart", name), platform=name in PLATFORM_ONLY
    )
    moment = now or utcnow()
    return f"{name}-{moment:%Y-%m-%d}.csv", CHARTS[name](session, checked, moment).csv()
