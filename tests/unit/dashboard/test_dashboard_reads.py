"""The dashboard refreshes every couple of seconds in every open tab: its reads stay few and still right."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlmodel import Session

from services.dashboard import load_dashboard
from services.keys.usage_tokens import issue_instance_token
from services.models import Budget, Instance, Plan, ProvisioningAction, Subscription
from services.provisioning.actions import STEPS
from services.usage.ingest import ingest, parse_batch
from tests.support import tenants
from tests.support.factories import customer_instance


@contextmanager
def counted(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _spending_customer(db: Session, name: str) -> Instance:
    instance = customer_instance(db, name)
    instance.status = "running"
    db.add(instance)
    db.add(
        Budget(
            subscription_id=instance.subscription_id,
            total_micros=10_000_000,
            reset_at=datetime.now(UTC) + timedelta(days=20),
        )
    )
    db.commit()
    record = {"id": "r1", "model": "gpt-x", "tokens_in": 10, "tokens_out": 5, "cost": "2.50"}
    ingest(db, instance.id, parse_batch({"records": [{**record, "occurred_at": datetime.now(UTC).isoformat()}]}))  # type: ignore[arg-type]
    db.commit()
    return instance


def test_a_refresh_reads_subscription_plan_instance_and_budget_in_one_query(db: Session) -> None:
    _spending_customer(db, "reader")
    who = tenants.customer(db, "reader")
    db.expunge_all()  # nothing from the set-up in the identity map: every read goes to the database
    with counted(db) as statements:
        view = load_dashboard(db, who)
    assert view.plan_name and view.instance_status == "running"
    assert view.budget_used == "$2.50" and view.usage_totals and view.usage_models == ["gpt-x"]
    # the account with the instance's token and latest action (1), usage by day and by model (2), the seller's
    # plans (1, or 2 for the platform's own customers): six fewer than a query per record
    assert len(statements) <= 5, statements


def test_the_latest_action_decides_busy_and_the_live_token_is_shown(db: Session) -> None:
    instance = _spending_customer(db, "busy")
    token = issue_instance_token(db, instance)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    db.add(
        ProvisioningAction(id="a-old", instance_id=instance.id, action="restart", status="running", created_at=earlier)
    )  # type: ignore[arg-type]
    db.add(ProvisioningAction(id="a-new", instance_id=instance.id, action="restart", status="succeeded"))  # type: ignore[arg-type]
    db.commit()
    view = load_dashboard(db, tenants.customer(db, "busy"))
    assert token.startswith(view.token_prefix) and view.token_prefix
    assert not view.busy and view.progress == []  # the older action still says running: the newest one decides

    latest = db.get(ProvisioningAction, "a-new")
    assert latest is not None
    latest.status = "retrying"
    db.add(latest)
    db.commit()
    view = load_dashboard(db, tenants.customer(db, "busy"))
    assert view.busy
    assert [p["status"] for p in view.progress] == ["waiting"] * len(STEPS["restart"])  # no step has run yet


def test_the_newest_subscription_is_the_one_shown_with_its_own_instance(db: Session) -> None:
    instance = _spending_customer(db, "renewed")
    old = db.get(Subscription, instance.subscription_id)
    assert old is not None
    other_plan = Plan(organization_id=db.get(Plan, old.plan_id).organization_id, name="Later", slug="later")  # type: ignore[union-attr]
    db.add(other_plan)
    db.flush()
    db.add(Subscription(organization_id=old.organization_id, plan_id=other_plan.id, status="incomplete"))  # type: ignore[arg-type]
    db.commit()
    view = load_dashboard(db, tenants.customer(db, "renewed"))
    assert (view.plan_name, view.subscription_status) == ("Later", "incomplete")
    assert view.instance_id == 0 and view.budget_total == ""  # the old subscription's instance and budget are not its
