"""Usage as the dashboard shows it: daily series per model from the rollup, totals, paging, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from services.usage.ingest import ingest, parse_batch
from services.usage.reports import daily_series, model_totals, recent_records, records_csv
from tests.support.factories import customer_instance

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)  # records at its first seconds


def _records(n: int, days_ago: int, model: str, cost: str = "0.000333") -> list[dict]:
    at = TODAY - timedelta(days=days_ago)
    return [
        {
            "id": f"{model}-{days_ago}-{i}",
            "model": model,
            "tokens_in": 100,
            "tokens_out": 20,
            "cost": cost,
            "occurred_at": (at + timedelta(seconds=i)).isoformat(),
        }
        for i in range(n)
    ]


def test_series_totals_pages_and_csv_agree_with_the_records(db: Session) -> None:
    instance = customer_instance(db, "reports")
    other = customer_instance(db, "neighbour")
    batch = _records(3, 0, "gpt-x") + _records(2, 1, "claude-y", "1.5") + _records(1, 40, "gpt-x")
    ingest(db, instance.id, parse_batch({"records": batch}))  # type: ignore[arg-type]
    ingest(db, other.id, parse_batch({"records": _records(5, 0, "gpt-x", "9")}))  # type: ignore[arg-type]
    db.commit()

    series = daily_series(db, instance.id, today=TODAY.date())  # type: ignore[arg-type]
    assert series.models == ["claude-y", "gpt-x"] and len(series.cost_rows) == 30
    assert series.cost_rows[-1] == {"day": TODAY.strftime("%d %b"), "claude-y": 0.0, "gpt-x": 0.000999}
    assert series.cost_rows[-2]["claude-y"] == 3.0 and series.token_rows[-2]["claude-y"] == 240
    assert all(row["gpt-x"] == 0 for row in series.cost_rows[:-1])  # the 40-day-old record is outside the chart

    totals = model_totals(db, instance.id, since=TODAY - timedelta(days=5))  # type: ignore[arg-type]
    # exact decimal sums, not float: 3 x 0.000333 is 0.000999, shown to the precision usage is billed in
    assert totals == [
        {"model": "claude-y", "tokens_in": "200", "tokens_out": "40", "cost": "3.0000", "records": "2"},
        {"model": "gpt-x", "tokens_in": "300", "tokens_out": "60", "cost": "0.0010", "records": "3"},
    ]

    first, more = recent_records(db, instance.id, page=1, page_size=4)  # type: ignore[arg-type]
    second, no_more = recent_records(db, instance.id, page=2, page_size=4)  # type: ignore[arg-type]
    assert more and not no_more and len(first) == 4 and len(second) == 2
    assert [r["id"] for r in first][:3] == ["gpt-x-0-2", "gpt-x-0-1", "gpt-x-0-0"]  # newest first
    assert {r["id"] for r in first + second} == {r["id"] for r in batch}  # nothing of the neighbour's

    rows = list(csv.DictReader(io.StringIO(records_csv(db, instance.id, since=TODAY - timedelta(days=5)))))  # type: ignore[arg-type]
    assert [r["id"] for r in rows] == ["claude-y-1-0", "claude-y-1-1", "gpt-x-0-0", "gpt-x-0-1", "gpt-x-0-2"]
    assert rows[0]["cost"] == "1.5000" and rows[0]["tokens_in"] == "100"
