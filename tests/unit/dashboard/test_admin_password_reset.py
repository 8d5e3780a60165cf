"""Resetting the instance's admin password: a new secret, applied by a redeploy, shown once, never audited;
refused (changing nothing) when it could not reach the app."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.customer import instance_control as control
from services.errors import ValidationFailed
from services.models import AuditEvent, Instance, ProvisioningAction
from services.provisioning import actions, engine
from services.provisioning.credentials import ensure_credentials, load_credentials
from services.provisioning.spec import build_spec
from tests.support.factories import customer_instance
from tests.support.tenants import customer


def _running(db: Session, name: str, status: str = "running") -> Instance:
    instance = customer_instance(db, name)
    instance.status = status
    ensure_credentials(db, instance)
    db.add(instance)
    db.commit()
    return instance


def test_a_reset_password_is_new_applied_by_a_redeploy_and_never_audited(db: Session, scheduled_actions: list) -> None:
    instance = _running(db, "pw-reset")
    before = load_credentials(instance)
    password = control.reset_admin_password(db, customer(db, "pw-reset"), instance.id)  # type: ignore[arg-type]
    db.commit()
    db.refresh(instance)
    after = load_credentials(instance)
    assert after["admin_password"] == password != before["admin_password"]
    assert after["secret_key"] == before["secret_key"]  # only the password changes
    assert build_spec(db, instance).env["ADMIN_PASSWORD"] == password  # what the redeploy gives the app
    action = db.exec(select(ProvisioningAction)).one()
    assert action.action == actions.APPLY_LIMITS and len(scheduled_actions) == 1
    assert instance.credentials_shown_at is not None  # shown now, once; the initial login is not offered again
    events = db.exec(select(AuditEvent)).all()
    assert [e.action for e in events] == ["instance.admin_password_rotated"]
    assert all(password not in repr(e.model_dump()) for e in events)


@pytest.mark.parametrize("situation", ["stopped", "busy"])
def test_a_reset_that_could_not_reach_the_app_is_refused_and_changes_nothing(
    db: Session, scheduled_actions: list, situation: str
) -> None:
    instance = _running(db, f"pw-{situation}", status="stopped" if situation == "stopped" else "running")
    if situation == "busy":
        engine.request_action(db, instance, actions.RESTART, requested_by="test")
        db.commit()
    before = load_credentials(instance)
    with pytest.raises(ValidationFailed):
        control.reset_admin_password(db, customer(db, f"pw-{situation}"), instance.id)  # type: ignore[arg-type]
    db.rollback()
    db.refresh(instance)
    assert load_credentials(instance) == before
    assert db.exec(select(AuditEvent)).all() == []
