"""The console's charts: numbers from the database, limited to the actor's subtree, with a CSV of the same numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from services.admin.trends import trend_csv, trends
from services.errors import ValidationFailed
from services.models import Instance, Organization, Plan, ProvisioningAction, StripeEvent, Subscription
from services.ops.history import count_statuses
from services.tenancy.scope import Forbidden
from tests.support.tenants import actor as _actor

NOW = datetime(2026, 12, 9, 12, 30, tzinfo=UTC)  # a Wednesday


def _by_name(charts: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in charts}


def _subscription(db: Session, slug: str) -> Subscription:
    org = db.exec(select(Organization).where(Organization.slug == slug)).one()
    return db.exec(select(Subscription).where(Subscription.organization_id == org.id)).one()


def test_mrr_counts_each_subscription_from_its_start_until_its_cancellation(db: Session, tree: dict) -> None:
    a, b = _subscription(db, "cust-a"), _subscription(db, "cust-b")
    a.created_at = datetime(2026, 3, 15, tzinfo=UTC)  # $10 a month from March
    b.created_at, b.canceled_at, b.status = (
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 9, 10, tzinfo=UTC),
        "canceled",
    )
    plan_b = db.get(Plan, b.plan_id)
    assert plan_b is not None
    plan_b.price_cents, plan_b.interval = 12000, "year"  # $120 a year: $10 a month
    db.add_all([a, b, plan_b])
    db.commit()

    mrr = _by_name(trends(db, _actor(db, tree, "operator"), NOW))["mrr"]
    by_month = {row[0]: row[1] for row in mrr["table"]}
    assert len(mrr["table"]) == 12 and mrr["table"][-1][0] == "Dec 2026" and mrr["table"][0][0] == "Jan 2026"
    assert by_month["Feb 2026"] == "$0"  # neither had started by the end of February
    assert by_month["Mar 2026"] == "$10" and by_month["May 2026"] == "$10"
    assert by_month["Jun 2026"] == "$20" and by_month["Aug 2026"] == "$20"  # B's yearly plan counts a twelfth
    assert by_month["Sep 2026"] == "$10" and by_month["Dec 2026"] == "$10"  # B cancelled on 10 September
    assert mrr["rows"][5] == {"period": "Jun 2026", "USD": 20.0}

    # reseller A sees only its own customer's revenue; B's is not in its numbers at all
    mine = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))["mrr"]
    assert {row[1] for row in mine["table"][2:]} == {"$10"}


def test_an_unpaid_checkout_is_no_revenue(db: Session, tree: dict) -> None:
    a = _subscription(db, "cust-a")
    a.status, a.created_at = "incomplete", datetime(2026, 1, 2, tzinfo=UTC)
    db.add(a)
    db.commit()
    mine = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))["mrr"]
    assert {row[1] for row in mine["table"]} == {"$0"}


def test_signups_and_cancellations_fall_in_their_week(db: Session, tree: dict) -> None:
    org_a = db.exec(select(Organization).where(Organization.slug == "cust-a")).one()
    org_b = db.exec(select(Organization).where(Organization.slug == "cust-b")).one()
    org_a.created_at = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Monday of this week
    org_b.created_at = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)  # Sunday: last week
    b = _subscription(db, "cust-b")
    b.canceled_at, b.status = datetime(2026, 12, 8, tzinfo=UTC), "canceled"
    db.add_all([org_a, org_b, b])
    db.commit()
    chart = _by_name(trends(db, _actor(db, tree, "operator"), NOW))["signups"]
    assert chart["table"][-1] == ["07 Dec", "1", "1"]
    assert chart["table"][-2] == ["30 Nov", "1", "0"]
    assert sum(int(r[1]) for r in chart["table"]) == 2
    theirs = _by_name(trends(db, _actor(db, tree, "b-admin"), NOW))["signups"]
    assert theirs["table"][-1] == ["07 Dec", "0", "1"] and theirs["table"][-2] == ["30 Nov", "1", "0"]


def test_provisioning_success_rate_and_p95_per_week(db: Session, tree: dict) -> None:
    instance = db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    for n in range(20):  # 19 took n+1 seconds and one took 100: the p95 is the 19th fastest
        took = 100 if n == 19 else n + 1
        db.add(
            ProvisioningAction(
                id=f"p-{n}",
                instance_id=instance.id,  # type: ignore[arg-type]
                action="provision",
                status="succeeded",
                created_at=monday,
                finished_at=monday + timedelta(seconds=took),
            )
        )
    # the tree's parked action of cust-a, finished this week: one of 21 parked
    parked = db.get(ProvisioningAction, f"act-{instance.id}")
    assert parked is not None
    parked.finished_at = monday
    db.add(parked)
    db.commit()
    chart = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))["provisioning"]
    assert chart["table"][-1] == ["07 Dec", "20", "1", "95.2", "19.0"]
    assert chart["rows"][-1]["success_rate"] == 95.2
    assert chart["table"][-2] == ["30 Nov", "0", "0", "", ""]
    assert _by_name(trends(db, _actor(db, tree, "b-admin"), NOW))["provisioning"]["table"][-1][1] == "0"


def test_instances_by_status_reads_the_kept_counts_and_today_live(db: Session, tree: dict) -> None:
    for instance in db.exec(select(Instance)).all():
        instance.status = "running"
        db.add(instance)
    db.commit()
    count_statuses(db, NOW - timedelta(days=2))
    a = db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    a.status = "stopped"
    db.add(a)
    db.commit()
    count_statuses(db, NOW - timedelta(days=1))
    count_statuses(db, NOW - timedelta(days=1))  # counted again: overwritten, not added
    chart = _by_name(trends(db, _actor(db, tree, "operator"), NOW))["instances"]
    assert chart["headings"] == ["Day", "running", "stopped"]
    assert chart["table"] == [["07 Dec", "2", "0"], ["08 Dec", "1", "1"], ["09 Dec", "1", "1"]]
    assert chart["rows"][0] == {"period": "07 Dec", "running": 2, "stopped": 0}
    theirs = _by_name(trends(db, _actor(db, tree, "b-admin"), NOW))["instances"]
    assert theirs["table"] == [["07 Dec", "1"], ["08 Dec", "1"], ["09 Dec", "1"]]


def test_the_webhook_backlog_is_the_platforms_alone(db: Session, tree: dict) -> None:
    db.add(StripeEvent(stripe_id="evt_1", type="x", received_at=NOW - timedelta(minutes=70), status="pending"))
    db.add(
        StripeEvent(
            stripe_id="evt_2",
            type="x",
            received_at=NOW - timedelta(minutes=65),
            processed_at=NOW - timedelta(minutes=5),
            status="processed",
        )
    )
    db.commit()
    platform = _by_name(trends(db, _actor(db, tree, "operator"), NOW))
    table = platform["webhooks"]["table"]
    assert len(table) == 24 and table[-2] == ["11:00", "2", "2"] and table[-1] == ["12:00", "0", "1"]
    assert "webhooks" not in _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))
    with pytest.raises(Forbidden):
        trend_csv(db, _actor(db, tree, "a-admin"), "webhooks", NOW)


def test_the_csv_holds_the_tables_numbers_and_outsiders_get_nothing(db: Session, tree: dict) -> None:
    name, text = trend_csv(db, _actor(db, tree, "a-admin"), "mrr", NOW)
    assert name == "mrr-2026-12-09.csv"
    rows = list(csv.reader(io.StringIO(text)))
    chart = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))["mrr"]
    assert rows[0] == chart["headings"] and rows[1:] == chart["table"]
    with pytest.raises(ValidationFailed):
        trend_csv(db, _actor(db, tree, "a-admin"), "../etc/passwd", NOW)
    with pytest.raises(Forbidden):
        trends(db, None, NOW)
    with pytest.raises(Forbidden):
        trend_csv(db, None, "mrr", NOW)


def test_a_german_console_reads_its_charts_in_german_and_the_csv_stays_the_same(db: Session, tree: dict) -> None:
    german = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW, language="de"))
    english = _by_name(trends(db, _actor(db, tree, "a-admin"), NOW))
    assert german["mrr"]["title"] == "Monatlich wiederkehrender Umsatz, letzte 12 Monate"
    assert german["mrr"]["headings"][0] == "Monat" and english["mrr"]["headings"][0] == "Month"
    assert german["mrr"]["table"][-1][0] == "Dez. 2026" and english["mrr"]["table"][-1][0] == "Dec 2026"
    assert (german["signups"]["rows"][-1]["period"], english["signups"]["rows"][-1]["period"]) == ("07 Dez.", "07 Dec")
    assert german["mrr"]["keys"] == english["mrr"]["keys"]  # what the chart draws by keeps its names
