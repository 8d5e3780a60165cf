"""History kept for charts: each instance's uptime per day and the count of instances per status per day.

Uptime comes from the checks the portal already makes: the minute's reconciler asks every backend how each
instance is, and each answer for an instance meant to run is one check (up when it runs). An engine that does not
answer counts as down for the instances flagged "host unreachable" (their customers cannot reach them either) and
as no check otherwise (we do not know). A day is one row, incremented in one statement for all instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.models import Instance, InstanceStatusDay, Organization, UptimeDay
from services.models.base import table_of, upsert_insert, utcnow

UPTIME_DAYS = 30


def record_checks(session: Session, observed: dict[int, bool], now: datetime | None = None) -> None:
    """Add one check per instance to today's row: `observed` maps an instance id to whether it was up."""
    if not observed:
        return
    day = (now or utcnow()).date()
    table = table_of(UptimeDay)
    insert = upsert_insert(session, UptimeDay)
    statement = insert.on_conflict_do_update(
        index_elements=["instance_id", "day"],
        set_={"checks": table.c.checks + 1, "up": table.c.up + insert.excluded.up},
    )
    session.execute(
        statement,
        [{"instance_id": i, "day": day, "checks": 1, "up": int(up)} for i, up in sorted(observed.items())],
    )


@dataclass(frozen=True)
class UptimeMark:
    day: date
    checks: int
    up: int

    @property
    def state(self) -> str:
        """up: every check found it running; degraded: some did not; down: none did; none: not checked."""
        if self.checks == 0:
            return "none"
        return "up" if self.up == self.checks else ("down" if self.up == 0 else "degraded")

    @property
    def percent(self) -> float | None:
        return None if self.checks == 0 else 100.0 * self.up / self.checks


def uptime_strip(session: Session, instance_id: int, today: date | None = None) -> list[UptimeMark]:
    """The last 30 days, oldest first, one mark per day (a day without checks is a mark with none)."""
    last = today or utcnow().date()
    first = last - timedelta(days=UPTIME_DAYS - 1)
    rows = {
        r.day: r
        for r in session.exec(
            select(UptimeDay).where(
                col(UptimeDay.instance_id) == instance_id, col(UptimeDay.day) >= first, col(UptimeDay.day) <= last
            )
        ).all()
    }
    marks = []
    for offset in range(UPTIME_DAYS):
        day = first + timedelta(days=offset)
        row = rows.get(day)
        marks.append(UptimeMark(day, row.checks if row else 0, row.up if row else 0))
    return marks


def overall_percent(marks: list[UptimeMark]) -> float | None:
    checks = sum(m.checks for m in marks)
    return None if checks == 0 else 100.0 * sum(m.up for m in marks) / checks


def count_statuses(session: Session, now: datetime | None = None) -> int:
    """Overwrite today's count of instances per seller and status (a status no longer seen today drops to 0)."""
    day = (now or utcnow()).date()
    counts = session.exec(
        select(col(Organization.parent_id), col(Instance.status), func.count())
        .join(Organization, col(Organization.id) == col(Instance.organization_id))
        .where(col(Organization.parent_id).is_not(None))
        .group_by(col(Organization.parent_id), col(Instance.status))
    ).all()
    table = table_of(InstanceStatusDay)
    session.execute(table.update().where(table.c.day == day).values(count=0))
    rows = [{"day": day, "seller_id": int(s), "status": st, "count": int(n)} for s, st, n in counts if s is not None]
    if rows:
        insert = upsert_insert(session, InstanceStatusDay)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["day", "seller_id", "status"], set_={"count": insert.excluded["count"]}
            ),
            rows,
        )
    return len(rows)
