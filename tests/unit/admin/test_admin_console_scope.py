"""The console's customers, overview, audit log and instance actions: each limited to the actor's subtree.

For every record type and action, a member of one tenant tries another tenant's record by its id: refused,
logged, nothing changed.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import customers, instances
from services.models import AuditEvent, Instance, ProvisioningAction
from services.tenancy.scope import Forbidden
from tests.support.tenants import actor as _actor


def _instance(db: Session, subdomain: str) -> Instance:
    instance = db.exec(select(Instance).where(Instance.subdomain == subdomain)).one()
    instance.status = "running"
    db.add(instance)
    db.commit()
    return instance


def test_customer_lists_and_overview_show_only_the_actors_subtree(db: Session, tree: dict) -> None:
    platform, a_admin, b_admin = (_actor(db, tree, n) for n in ("operator", "a-admin", "b-admin"))
    everyone, total = customers.list_customers(db, platform)
    assert total == 2 and {r["slug"] for r in everyone} == {"cust-a", "cust-b"}
    mine, total_a = customers.list_customers(db, a_admin)  # cust-a sits under A's sub-reseller
    assert total_a == 1 and mine[0]["slug"] == "cust-a" and mine[0]["email"] == "cust-a@example.com"
    assert customers.list_customers(db, b_admin, search="cust-a") == ([], 0)  # search cannot reach across
    assert customers.list_customers(db, platform, search="CUST-B")[1] == 1
    assert customers.list_customers(db, platform, status="active", plan="plan-cust-a")[1] == 1
    with pytest.raises(ValueError):
        customers.list_customers(db, platform, status="bogus")

    assert customers.overview(db, platform)["customers"] == 2
    view_a = customers.overview(db, a_admin)
    assert view_a["customers"] == 1 and view_a["active_subscriptions"] == 1 and view_a["mrr"] == "$10"
    assert view_a["parked_actions"] == 1 and view_a["webhooks_waiting"] == 0


ATTEMPTS = {
    "detail": lambda db, actor, inst: customers.customer_detail(db, actor, inst.organization_id),
    "restart": lambda db, actor, inst: instances.instance_action(db, actor, inst.id, "restart"),
    "stop": lambda db, actor, inst: instances.instance_action(db, actor, inst.id, "stop"),
    "redeploy": lambda db, actor, inst: instances.instance_action(db, actor, inst.id, "redeploy"),
    "logs": lambda db, actor, inst: instances.instance_logs(db, actor, inst.id),
    "health": lambda db, actor, inst: instances.instance_health(db, actor, inst.id),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_another_resellers_customer_by_id_is_refused_logged_and_unchanged(
    db: Session, tree: dict, attempt: str
) -> None:
    theirs = _instance(db, "cust-b")
    actions_before = len(db.exec(select(ProvisioningAction)).all())
    with pytest.raises(Forbidden):
        ATTEMPTS[attempt](db, _actor(db, tree, "a-admin"), theirs)
    db.rollback()
    db.refresh(theirs)
    assert theirs.status == "running" and theirs.desired_state == "running"
    assert len(db.exec(select(ProvisioningAction)).all()) == actions_before
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()
    assert denied and denied[-1].target_id in (str(theirs.id), str(theirs.organization_id))


def test_support_restarts_in_its_subtree_billing_cannot_and_bulk_refuses_one_by_one(db: Session, tree: dict) -> None:
    mine, theirs = _instance(db, "cust-a"), _instance(db, "cust-b")
    action_id = instances.instance_action(db, _actor(db, tree, "a-support"), mine.id, "restart")
    db.commit()
    assert db.get(ProvisioningAction, action_id).requested_by == "admin:a-support@example.com"  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        instances.instance_action(db, _actor(db, tree, "a-billing"), mine.id, "stop")
    db.rollback()

    result = instances.bulk_action(db, _actor(db, tree, "a-admin"), [mine.id, theirs.id], "stop")  # type: ignore[list-item]
    db.commit()
    assert result.queued == 1 and len(result.refused) == 1 and str(theirs.id) in result.refused[0]
    db.refresh(theirs)
    assert theirs.desired_state == "running"


def test_the_audit_log_of_a_reseller_holds_only_its_subtrees_events(db: Session, tree: dict) -> None:
    mine, theirs = _instance(db, "cust-a"), _instance(db, "cust-b")
    instances.instance_action(db, _actor(db, tree, "operator"), mine.id, "restart")
    instances.instance_action(db, _actor(db, tree, "operator"), theirs.id, "restart")
    db.commit()
    rows, total = customers.audit_log(db, _actor(db, tree, "a-admin"), action="admin.instance")
    assert total == 1 and "cust-a" in rows[0]["details"]
    assert customers.audit_log(db, _actor(db, tree, "operator"), action="admin.instance")[1] == 2
