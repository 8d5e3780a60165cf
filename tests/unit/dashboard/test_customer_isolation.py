"""A customer can never see or act on another customer's instance, usage or budget by changing an id."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin.scope import Forbidden
from services.customer import instance_control as control
from services.dashboard import load_dashboard
from services.models import ApiToken, AuditEvent, Budget, Instance, ProvisioningAction, User
from services.provisioning.credentials import ensure_credentials
from tests.factories import customer_instance


@pytest.fixture()
def two(db: Session) -> dict[str, tuple[int, Instance]]:
    result = {}
    for name, used in (("mine", 1_000_000), ("theirs", 7_000_000)):
        instance = customer_instance(db, name)
        instance.status = "running"
        ensure_credentials(db, instance)
        db.add(Budget(subscription_id=instance.subscription_id, total_micros=10_000_000, used_micros=used))  # type: ignore[arg-type]
        db.commit()
        user_id = db.exec(select(User.id).where(User.username == name)).one()
        result[name] = (user_id, instance)
    return result


ATTEMPTS = {
    "restart": lambda s, u, i: control.control_instance(s, u, i, "restart"),
    "stop": lambda s, u, i: control.control_instance(s, u, i, "stop"),
    "logs": lambda s, u, i: control.instance_logs(s, u, i),
    "credentials": lambda s, u, i: control.reveal_credentials(s, u, i),
    "rotate token": lambda s, u, i: control.rotate_usage_token(s, u, i),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_every_instance_call_with_a_foreign_id_is_refused_logged_and_changes_nothing(
        db: Session, two: dict, attempt: str, scheduled_actions: list) -> None:
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
    assert denied.target_id == str(theirs.id) and denied.details["actor_user_id"] == me


def test_an_id_that_does_not_exist_is_refused_the_same_way(db: Session, two: dict) -> None:
    me, _ = two["mine"]
    with pytest.raises(Forbidden, match="not in your account"):
        control.control_instance(db, me, 999_999, "restart")


def test_the_dashboard_shows_only_the_users_own_instance_and_budget(db: Session, two: dict) -> None:
    me, mine = two["mine"]
    view = load_dashboard(db, me)
    assert view.instance_id == mine.id and "mine" in view.instance_url
    assert view.budget_used == "$1"  # 7 of "theirs" would show otherwise


def test_own_instance_restart_is_queued_once_and_refused_while_it_runs(db: Session, two: dict,
                                                                       scheduled_actions: list) -> None:
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
