"""Plans from the console: checked fields, one seller's plans only, archive keeps subscribers, delete only unused."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import plans
from services.billing.plans import public_plans
from services.errors import ValidationFailed
from services.models import Organization, Plan, Subscription
from services.tenancy.scope import Forbidden
from tests.support.tenants import actor as _actor

GOOD = {
    "name": "Alpha Pro",
    "slug": "alpha-pro",
    "price_cents": 2900,
    "stripe_price_id": "price_alpha_pro",
    "budget_included_micros": 20_000_000,
    "budget_policy": "suspend",
    "limits": {"memory_mb": 512},
}


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def test_a_reseller_creates_edits_and_archives_its_plan_and_subscribers_keep_it(db: Session, tree: dict) -> None:
    admin, reseller = _actor(db, tree, "a-admin"), _org(db, "reseller-a")
    plan = plans.save_plan(db, admin, GOOD, organization_id=reseller.id)  # type: ignore[arg-type]
    db.commit()
    assert [p.slug for p in public_plans(db, reseller.id)] == ["alpha-pro"]
    plans.save_plan(db, admin, {**GOOD, "price_cents": 3900}, organization_id=reseller.id, plan_id=plan.id)  # type: ignore[arg-type]
    db.add(Subscription(organization_id=_org(db, "cust-a").id, plan_id=plan.id, status="active"))  # type: ignore[arg-type]
    db.commit()
    with pytest.raises(ValidationFailed, match="archive it instead"):
        plans.delete_plan(db, admin, plan.id)  # type: ignore[arg-type]
    plans.archive_plan(db, admin, plan.id)  # type: ignore[arg-type]
    db.commit()
    assert public_plans(db, reseller.id) == []  # off the pricing page
    assert db.get(Plan, plan.id).price_cents == 3900  # type: ignore[union-attr]
    assert db.exec(select(Subscription).where(Subscription.plan_id == plan.id)).one().status == "active"
    listed = plans.list_plans(db, admin, include_archived=True)
    assert any(p["slug"] == "alpha-pro" and p["archived"] == "yes" and p["subscriptions"] == "1" for p in listed)


def test_bad_fields_are_named_and_another_resellers_plans_are_out_of_reach(db: Session, tree: dict) -> None:
    admin, reseller = _actor(db, tree, "a-admin"), _org(db, "reseller-a")
    with pytest.raises(ValidationFailed) as refused:
        plans.save_plan(
            db,
            admin,
            {"name": "", "slug": "Bad Slug", "price_cents": -1, "budget_policy": "shrug", "limits": {"gpus": 8}},
            organization_id=reseller.id,
        )  # type: ignore[arg-type]
    assert set(refused.value.errors) == {"name", "slug", "price_cents", "budget_policy", "limits"}
    db.rollback()
    theirs = plans.save_plan(
        db, _actor(db, tree, "b-admin"), {**GOOD, "slug": "beta-pro"}, organization_id=_org(db, "reseller-b").id
    )  # type: ignore[arg-type]
    db.commit()
    for attempt in (
        lambda: plans.archive_plan(db, admin, theirs.id),
        lambda: plans.delete_plan(db, admin, theirs.id),
        lambda: plans.save_plan(db, admin, GOOD, organization_id=reseller.id, plan_id=theirs.id),
        lambda: plans.save_plan(db, _actor(db, tree, "a-support"), GOOD, organization_id=reseller.id),
    ):
        with pytest.raises(Forbidden):
            attempt()
        db.rollback()
    assert db.get(Plan, theirs.id).archived_at is None and db.get(Plan, theirs.id).slug == "beta-pro"  # type: ignore[union-attr]
    assert all(p["slug"] != "beta-pro" for p in plans.list_plans(db, admin))


def test_the_console_form_changes_the_limits_it_shows_and_keeps_the_others(db: Session, tree: dict) -> None:
    """Its AI models and rate limits are not on the form: saving the price must not wipe them; a blank field
    clears its own limit; backups and region are set like the rest."""
    from portal.state.admin_team import plan_values
    from services.admin import plans
    from services.models import Organization, Plan
    from tests.support import tenants

    platform = db.exec(select(Organization).where(Organization.slug == "platform")).one()
    plan = Plan(
        organization_id=platform.id,  # type: ignore[arg-type]
        name="Pro",
        slug="pro-limits",
        limits={"memory_mb": 512, "cpus": 1, "max_requests_per_minute": 60, "ai_models": ["gpt-4o-mini"]},
    )
    db.add(plan)
    db.commit()
    form = {
        "id": str(plan.id),
        "name": "Pro",
        "slug": "pro-limits",
        "price_cents": "0",
        "limit_memory_mb": "1024",
        "limit_cpus": "",
        "limit_backup_interval_hours": "6",
        "limit_backups_kept": "14",
        "region": "EU-1",
    }
    plans.save_plan(
        db,
        tenants.actor(db, tree, "operator"),
        plan_values(form),
        organization_id=platform.id,
        plan_id=plan.id,  # type: ignore[arg-type]
    )
    db.commit()
    db.refresh(plan)
    assert plan.limits == {
        "memory_mb": 1024,
        "max_requests_per_minute": 60,
        "ai_models": ["gpt-4o-mini"],
        "backup_interval_hours": 6,
        "backups_kept": 14,
    }
    assert plan.region == "eu-1"
