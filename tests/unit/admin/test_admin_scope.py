"""Admin scope: a reseller never sees or touches another reseller's records; roles limit what staff can do."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import provisioning as admin_provisioning
from services.admin import webhook_events
from services.models import (
    AuditEvent,
    ProvisioningAction,
    StripeEvent,
    User,
)
from services.tenancy.scope import Forbidden, resolve_actor
from tests.support.tenants import actor as _actor


def test_reseller_sees_its_whole_subtree_and_nothing_else(db: Session, tree: dict) -> None:
    actor = _actor(db, tree, "a-admin")
    assert tree["sub_a"].id in actor.org_ids
    listed = admin_provisioning.list_actions(db, actor)
    assert [row["subdomain"] for row in listed] == ["cust-a"]
    everything = admin_provisioning.list_actions(db, _actor(db, tree, "operator"))
    assert sorted(row["subdomain"] for row in everything) == ["cust-a", "cust-b"]


def test_customer_members_are_not_admins(db: Session, tree: dict) -> None:
    customer = db.exec(select(User).where(User.username == "cust-a")).one()
    assert resolve_actor(db, customer.id) is None  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        admin_provisioning.list_actions(db, None)


def test_retry_of_another_resellers_action_is_refused_logged_and_changes_nothing(db: Session, tree: dict) -> None:
    actor = _actor(db, tree, "a-admin")
    with pytest.raises(Forbidden, match="not in your organization"):
        admin_provisioning.retry_action(db, actor, tree["b"].id)
    db.rollback()
    assert db.get(ProvisioningAction, tree["b"].id).status == "parked"
    assert tree["scheduled"] == []
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).one()
    assert denied.target_id == tree["b"].id and denied.details["attempted"] == "provisioning.retry"


def test_unknown_action_id_is_refused_like_a_foreign_one(db: Session, tree: dict) -> None:
    with pytest.raises(Forbidden):
        admin_provisioning.retry_action(db, _actor(db, tree, "a-admin"), "no-such-action")


def test_support_can_retry_but_billing_staff_cannot(db: Session, tree: dict) -> None:
    with pytest.raises(Forbidden, match="billing"):
        admin_provisioning.retry_action(db, _actor(db, tree, "a-billing"), tree["a"].id)
    db.rollback()
    admin_provisioning.retry_action(db, _actor(db, tree, "a-support"), tree["a"].id)
    db.commit()
    assert db.get(ProvisioningAction, tree["a"].id).status == "queued"
    assert tree["scheduled"] == [(tree["a"].id, 0)]
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "provisioning_action.retry")).one()
    assert audit.actor_label == "a-support@example.com"


def test_webhook_events_are_platform_only_and_replay_runs_the_handler_again(db: Session, tree: dict) -> None:
    db.add(
        StripeEvent(
            stripe_id="evt_1", type="customer.updated", payload={"data": {"object": {}}}, status="ignored", attempts=1
        )
    )
    db.add(StripeEvent(stripe_id="evt_2", type="invoice.paid", payload={}, status="failed", attempts=3, error="boom"))
    db.commit()
    with pytest.raises(Forbidden, match="platform staff"):
        webhook_events.list_events(db, _actor(db, tree, "a-admin"))
    db.rollback()
    operator = _actor(db, tree, "operator")
    rows, total = webhook_events.list_events(db, operator, status="failed")
    assert total == 1 and rows[0]["stripe_id"] == "evt_2" and rows[0]["error"] == "boom"
    with pytest.raises(ValueError, match="Unknown status"):
        webhook_events.list_events(db, operator, status="bogus")

    webhook_events.replay_event(db, operator, "evt_1")
    db.commit()  # the job is queued after commit; the inline queue runs it at once
    db.expire_all()
    replayed = db.exec(select(StripeEvent).where(StripeEvent.stripe_id == "evt_1")).one()
    assert replayed.attempts == 2 and replayed.status == "ignored"
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "webhook_event.replay")).one().target_id == "evt_1"


def test_the_kept_subtree_follows_every_change_of_the_tree(db: Session, tree: dict) -> None:
    """subtree_ids is kept per process; a new, moved or swapped organization must show at once."""
    from services.models import Organization
    from services.tenancy.scope import subtree_ids

    a = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    b = db.exec(select(Organization).where(Organization.slug == "reseller-b")).one()
    sub_a = tree["sub_a"]
    assert sub_a.id in subtree_ids(db, a.id) and sub_a.id not in subtree_ids(db, b.id)
    sub_b = Organization(name="Sub B", slug="sub-b", kind="sub_reseller", parent_id=b.id)
    db.add(sub_b)
    db.commit()
    assert sub_b.id in subtree_ids(db, b.id)
    # swap the two subs' parents: the count, the highest id and the sum of the parents stay the same
    sub_a.parent_id, sub_b.parent_id = b.id, a.id
    db.add_all([sub_a, sub_b])
    db.commit()
    assert sub_a.id in subtree_ids(db, b.id) and sub_a.id not in subtree_ids(db, a.id)
    assert sub_b.id in subtree_ids(db, a.id) and sub_b.id not in subtree_ids(db, b.id)
