"""Incidents themselves: one open row per thing, a recurrence counted, a resolved one alerting anew; notices
scoped to the actor's tree; platform-wide incidents for platform staff only; nothing sent when rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.models import Incident, Organization
from services.ops import incidents
from services.provisioning.backends.docker import DockerBackend
from services.provisioning.watch import Probe, watch_backends
from tests.support import tenants
from tests.support.env import SettingsEnv
from tests.support.mailbox import staff_alerts


def test_one_mail_per_incident_and_a_new_one_after_it_was_resolved(db: Session, tree: dict, outbox: Path) -> None:
    assert incidents.raise_incident(db, incidents.BACKEND_DOWN, "docker:x", title="Docker at x is not answering")
    db.commit()
    assert len(staff_alerts(outbox)) == 1  # the platform's one owner; nobody at a reseller for a platform-wide incident
    for _ in range(3):
        assert not incidents.raise_incident(db, incidents.BACKEND_DOWN, "docker:x", title="again", detail="still")
        db.commit()
    assert len(staff_alerts(outbox)) == 1
    row = db.exec(select(Incident)).one()
    assert row.occurrences == 4 and row.detail == "still" and row.title == "Docker at x is not answering"
    assert incidents.resolve_incident(db, incidents.BACKEND_DOWN, "docker:x")
    assert not incidents.resolve_incident(db, incidents.BACKEND_DOWN, "docker:x")  # nothing open any more
    db.commit()
    assert incidents.raise_incident(db, incidents.BACKEND_DOWN, "docker:x", title="down again")
    db.commit()
    assert len(staff_alerts(outbox)) == 2 and len(db.exec(select(Incident)).all()) == 2


def test_a_rolled_back_incident_sends_nothing_and_unknown_kinds_are_refused(
    db: Session, tree: dict, outbox: Path
) -> None:
    incidents.raise_incident(db, incidents.WEBHOOK_FAILED, "evt_1", title="Stripe event evt_1 failed")
    db.rollback()
    assert len(staff_alerts(outbox)) == 0 and db.exec(select(Incident)).all() == []
    with pytest.raises(ValueError, match="unknown incident kind"):
        incidents.raise_incident(db, "gremlins", "x", title="?")


def test_notices_are_scoped_to_the_actors_tree(db: Session, tree: dict) -> None:
    cust_b = db.exec(select(Organization).where(Organization.slug == "cust-b")).one()
    incidents.raise_incident(db, incidents.ACTION_PARKED, "act-b", title="b's action", organization_id=cust_b.id)
    incidents.raise_incident(db, incidents.BACKEND_DOWN, "coolify:y", title="Coolify down")
    db.commit()

    def seen(name: str) -> list[str]:
        return sorted(n.title for n in incidents.open_notices(db, tenants.actor(db, tree, name)))  # type: ignore[arg-type]

    assert seen("operator") == ["Coolify down", "b's action"]
    assert seen("b-admin") == ["b's action"]
    assert seen("a-admin") == [] and seen("a-support") == []


def test_disabled_staff_get_no_mail_and_each_address_once(db: Session, tree: dict) -> None:
    operator = tree["users"]["operator"]
    operator.status = "disabled"
    db.add(operator)
    db.commit()
    cust_a = db.exec(select(Organization).where(Organization.slug == "cust-a")).one()
    assert [email for email, _ in incidents.recipients(db, cust_a.id)] == [
        "a-admin@example.com",
        "a-support@example.com",
    ]


def test_an_engine_that_stops_answering_is_one_incident_until_it_answers_again(
    db: Session, tree: dict, outbox: Path, settings_env: SettingsEnv, tmp_path: Path
) -> None:
    settings_env.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such-docker.sock")
    assert watch_backends(db) == {f"docker:unix://{tmp_path}/no-such-docker.sock": False}
    db.commit()
    assert watch_backends(db) == {f"docker:unix://{tmp_path}/no-such-docker.sock": False}
    db.commit()
    assert len(staff_alerts(outbox)) == 1
    notice = incidents.open_notices(db, tenants.actor(db, tree, "operator"))  # type: ignore[arg-type]
    assert len(notice) == 1 and "not answering" in notice[0].title and notice[0].occurrences == 2
    docker = DockerBackend()
    answering = Probe(f"docker:{docker.address}", "The Docker engine", lambda: None)
    assert watch_backends(db, [answering]) == {answering.key: True}
    db.commit()
    assert incidents.open_notices(db, tenants.actor(db, tree, "operator")) == []  # type: ignore[arg-type]


def test_nothing_in_use_is_not_probed(db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("DOCKER_HOST", "")
    assert watch_backends(db) == {}
