"""The console's Servers tab as platform staff: the pool with its load, a server added, drained, removed; bad
input changes nothing; starting a server's instances elsewhere only once it is down. Resellers are refused all of
it (tests/unit/test_isolation_matrix.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import servers as console
from services.capacity import placement, servers
from services.errors import ValidationFailed
from services.models import AuditEvent, ProvisioningAction, Server
from services.provisioning import actions
from services.tenancy.scope import Forbidden
from tests.support import tenants
from tests.support.factories import customer_instance


def test_platform_staff_run_the_pool_and_every_change_is_audited(
    db: Session, tree: dict, scheduled_actions: list
) -> None:
    operator = tenants.actor(db, tree, "operator")
    assert (
        console.add(
            db,
            operator,
            {
                "name": "eu-2",
                "address": "unix:///run/eu2.sock",
                "memory_mb": "4096",
                "region": "eu-1",
                "max_instances": "10",
            },
        )
        == "eu-2"
    )
    console.add(db, operator, {"name": "eu-3", "address": "unix:///run/eu3.sock"})
    db.commit()
    for bad, field in (
        ({"name": "eu-2", "address": "unix:///run/x.sock"}, ""),
        ({"name": "x", "address": "unix:///run/y.sock", "memory_mb": "lots"}, "memory_mb"),
        ({"name": "y", "address": "ftp://nope"}, ""),
    ):
        with pytest.raises(ValidationFailed) as refused:
            console.add(db, operator, bad)
        assert field in refused.value.errors
        db.rollback()
    assert [s.name for s in db.exec(select(Server)).all()] == ["eu-2", "eu-3"]

    instance = customer_instance(db, "tenant")
    instance.status = "running"
    servers.drain(db, "eu-3")
    db.add(instance)
    placement.place(db, instance)  # on eu-2, the only active one
    servers.activate(db, "eu-3")
    db.commit()
    rows = {r["name"]: r for r in console.pool(db, operator)}
    assert rows["eu-2"]["instances"] == 1 and rows["eu-2"]["load_percent"] == 10  # 1 of 10 instances
    assert console.change(db, operator, "eu-2", "drain") == "eu-2: 1 instance(s) moving"
    db.commit()
    move = db.exec(select(ProvisioningAction).where(ProvisioningAction.action == actions.MIGRATE)).one()
    assert move.params["target_server_id"] == servers.get_server(db, "eu-3").id
    assert {r["name"]: r["moving"] for r in console.pool(db, operator)}["eu-2"] == 1
    with pytest.raises(ValidationFailed, match="still holds 1"):
        console.change(db, operator, "eu-2", "remove")
    with pytest.raises(ValidationFailed, match="answers: drain it instead"):
        console.move_from_backups(db, operator, "eu-2")
    assert {e.action for e in db.exec(select(AuditEvent)).all()} >= {"server.add", "server.drain"}


def test_a_resellers_staff_see_no_server(db: Session, tree: dict) -> None:
    with pytest.raises(Forbidden):
        console.pool(db, tenants.actor(db, tree, "a-admin"))
