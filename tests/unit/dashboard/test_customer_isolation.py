"""A customer can never see or act on another customer's instance, usage or budget by changing an id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from services.customer import instance_control as control
from services.customer import usage_view
from services.customer.history import instance_history
from services.customer.instance_control import ALLOWED_IN, controls_for
from services.dashboard import load_dashboard
from services.models import ApiToken, AuditEvent, Budget, Instance, ProvisioningAction, UsageRecord
from services.provisioning.credentials import ensure_credentials
from services.tenancy.scope import Customer, Forbidden
from tests.support import tenants
from tests.support.factories import customer_instance


@pytest.fixture()
def two(db: Session) -> dict[str, tuple[Customer, Instance]]:
    result = {}
    for name, used in (("mine", 1_000_000), ("theirs", 7_000_000)):
        instance = customer_instance(db, name)
        instance.status = "running"
        ensure_credentials(db, instance)
        db.add(Budget(subscription_id=instance.subscription_id, total_micros=10_000_000, used_micros=used))  # type: ignore[arg-type]
        db.add(
            UsageRecord(
                instance_id=instance.id,
                model=f"model-of-{name}",
                cost_micros=used,  # type: ignore[arg-type]
                occurred_at=datetime.now(UTC),
                idempotency_key=f"{name}-1",
            )
        )
        db.commit()
        result[name] = (tenants.customer(db, name), instance)
    return result


ATTEMPTS = {
    "restart": lambda s, who, i: control.control_instance(s, who, i, "restart"),
    "stop": lambda s, who, i: control.control_instance(s, who, i, "stop"),
    "logs": lambda s, who, i: control.instance_logs(s, who, i),
    "credentials": lambda s, who, i: control.reveal_credentials(s, who, i),
    "rotate token": lambda s, who, i: control.rotate_usage_token(s, who, i),
    "usage page": lambda s, who, i: usage_view.usage_page(s, who, i, 1),
    "usage csv": lambda s, who, i: usage_view.usage_csv(s, who, i),
    "history": lambda s, who, i: instance_history(s, who, i),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_every_instance_call_with_a_foreign_id_is_refused_logged_and_changes_nothing(
    db: Session, two: dict, attempt: str, scheduled_actions: list
) -> None:
    me, _mine = two["mine"]
    _them, theirs = two["theirs"]
    with pytest.raises(Forbidden, match="not in your account"):
        ATTEMPTS[attempt](db, me, theirs.id)
    db.rollback()
    db.refresh(theirs)
    assert theirs.credentials_shown_at is None and theirs.status == "running"
    assert db.exec(select(ProvisioningAction)).all() == [] and scheduled_actions == []
    assert db.exec(select(ApiToken)).all() == []
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.denied")).one()
    assert denied.target_id == str(theirs.id) and denied.details["actor_user_id"] == me.user_id


def test_own_usage_pages_and_csv_show_only_own_records(db: Session, two: dict) -> None:
    me, mine = two["mine"]
    rows, _more = usage_view.usage_page(db, me, mine.id, 1)
    name, text = usage_view.usage_csv(db, me, mine.id)
    assert [r["model"] for r in rows] == ["model-of-mine"]
    assert "model-of-mine" in text and "model-of-theirs" not in text and name.startswith("usage-mine-")


def test_an_id_that_does_not_exist_is_refused_the_same_way(db: Session, two: dict) -> None:
    me, _ = two["mine"]
    with pytest.raises(Forbidden, match="not in your account"):
        control.control_instance(db, me, 999_999, "restart")


def test_the_dashboard_shows_only_the_users_own_instance_and_budget(db: Session, two: dict) -> None:
    me, mine = two["mine"]
    view = load_dashboard(db, me)
    assert view.instance_id == mine.id and "mine" in view.instance_url
    assert view.budget_used == "$1"  # 7 of "theirs" would show otherwise


def test_own_instance_restart_is_queued_once_and_refused_while_it_runs(
    db: Session, two: dict, scheduled_actions: list
) -> None:
    me, mine = two["mine"]
    action_id = control.control_instance(db, me, mine.id, "restart")
    db.commit()
    assert [a for a, _ in scheduled_actions] == [action_id]
    with pytest.raises(Exception, match="still running"):
        control.control_instance(db, me, mine.id, "stop")
    db.rollback()
    assert load_dashboard(db, me).controls == {"restart": False, "stop": False, "start": False}
    assert control.reveal_credentials(db, me, mine.id)["admin_password"]  # type: ignore[index]
    db.commit()
    assert control.reveal_credentials(db, me, mine.id) is None  # shown once


STATUSES = (
    "running",
    "stopped",
    "error",
    "unknown",
    "restarting",
    "provisioning",
    "starting",
    "stopping",
    "suspended",
    "deprovisioned",
    "awaiting_payment",
    "pending",
)


@pytest.mark.parametrize("status", STATUSES)
def test_which_control_is_offered_in_which_status(status: str) -> None:
    """The table a person reads on the dashboard: restart only what runs (or may), start only what stands."""
    expected = {
        "restart": status in ("running", "error", "unknown"),
        "stop": status in ("running", "error", "unknown", "restarting"),
        "start": status in ("stopped", "error", "unknown"),
    }
    instance = Instance(organization_id=1, subdomain="x", status=status, desired_state="running")
    assert controls_for(instance, False, "active") == expected
    assert {c: status in ALLOWED_IN[c] for c in ALLOWED_IN} == expected
    assert controls_for(instance, True, "active") == dict.fromkeys(expected, False)  # busy: nothing
    assert controls_for(instance, False, "canceled") == dict.fromkeys(expected, False)  # not paid: nothing
    suspended = Instance(organization_id=1, subdomain="x", status=status, desired_state="suspended")
    assert controls_for(suspended, False, "active") == dict.fromkeys(expected, False)


@pytest.mark.parametrize("status", [s for s in STATUSES if s not in ALLOWED_IN["restart"]])
def test_a_control_the_status_does_not_allow_is_refused_with_the_reason(
    db: Session, two: dict, status: str, scheduled_actions: list
) -> None:
    me, mine = two["mine"]
    mine.status = status
    db.add(mine)
    db.commit()
    with pytest.raises(Exception) as caught:
        control.control_instance(db, me, mine.id, "restart")
    db.rollback()
    assert scheduled_actions == [] and db.exec(select(ProvisioningAction)).all() == []
    assert str(caught.value)
