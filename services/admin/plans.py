"""Plans from the console: create, edit, archive; delete only what nothing uses.

A plan belongs to the organization that sells it; resellers edit their own, the platform everyone's. Archiving
takes a plan off the pricing page and out of signups but leaves its subscribers exactly as they are.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from services import audit
from services.errors import ValidationFailed
from services.models import AppTemplate, Organization, Plan, Subscription
from services.models.base import utcnow
from services.tenancy.scope import ADMIN_KINDS, Actor, authorise, visible
from services.usage.alerts import POLICIES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
LIMIT_KEYS = ("memory_mb", "cpus", "max_concurrent_projects", "max_parallel_requests", "max_requests_per_minute")


def list_plans(session: Session, actor: Actor | None, *, include_archived: bool = False) -> list[dict[str, Any]]:
    checked = authorise(session, actor, "view", action="plans.list", target=("plan", "*"))
    query = (
        select(Plan, Organization)
        .join(Organization, Organization.id == Plan.organization_id)
        .where(visible(checked, Plan.organization_id))
    )
    if not include_archived:
        query = query.where(Plan.archived_at.is_(None))
    used = dict(session.exec(select(Subscription.plan_id, func.count()).group_by(Subscription.plan_id)).all())
    return [
        {
            "id": str(p.id),
            "seller": o.name,
            "name": p.name,
            "slug": p.slug,
            "price_cents": str(p.price_cents),
            "stripe_price_id": p.stripe_price_id or "",
            "budget": str(p.budget_included_micros // 1_000_000),
            "policy": p.budget_policy,
            "subscriptions": str(used.get(p.id, 0)),
            "archived": "yes" if p.archived_at else "",
        }
        for p, o in session.exec(query.order_by(Organization.name, Plan.sort_order)).all()
    ]


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    clean["name"] = str(values.get("name") or "").strip()
    if not 1 <= len(clean["name"]) <= 100:
        errors["name"] = "must be 1 to 100 characters"
    clean["slug"] = str(values.get("slug") or "").strip().lower()
    if not SLUG.match(clean["slug"]):
        errors["slug"] = "must be 2 to 63 lowercase letters, digits or hyphens"
    for field, low in (("price_cents", 0), ("budget_included_micros", 0), ("grace_days", 0), ("retention_days", 1)):
        try:
            clean[field] = int(values.get(field, 0 if field != "retention_days" else 30))
        except (TypeError, ValueError):
            errors[field] = "must be a whole number"
            continue
        if clean[field] < low:
            errors[field] = f"must be {low} or more"
    clean["budget_policy"] = str(values.get("budget_policy") or "notify")
    if clean["budget_policy"] not in POLICIES:
        errors["budget_policy"] = f"must be one of {', '.join(POLICIES)}"
    clean["stripe_price_id"] = str(values.get("stripe_price_id") or "").strip() or None
    if clean.get("price_cents", 0) > 0 and not clean["stripe_price_id"]:
        errors["stripe_price_id"] = "a paid plan needs its Stripe price id"
    limits = values.get("limits") or {}
    unknown = set(limits) - set(LIMIT_KEYS)
    if unknown:
        errors["limits"] = f"unknown limits: {', '.join(sorted(unknown))}"
    clean["limits"] = {k: v for k, v in limits.items() if k in LIMIT_KEYS}
    clean["description"] = str(values.get("description") or "")[:500]
    if errors:
        raise ValidationFailed(errors)
    return clean


def save_plan(
    session: Session,
    actor: Actor | None,
    values: dict[str, Any],
    *,
    organization_id: int,
    plan_id: int | None = None,
    ip: str = "",
) -> Plan:
    plan = session.get(Plan, plan_id) if plan_id else None
    seller = session.get(Organization, plan.organization_id if plan else organization_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="plans.save",
        target=("plan", plan_id or "new"),
        organization_id=seller.id if seller and seller.kind in ADMIN_KINDS else -1,
    )
    assert seller is not None
    clean = _clean(values)
    taken = session.exec(select(Plan.id).where(Plan.organization_id == seller.id, Plan.slug == clean["slug"])).first()
    if taken is not None and taken != plan_id:
        raise ValidationFailed.single("slug", f"{seller.name} already has a plan called {clean['slug']!r}.")
    template_id = values.get("app_template_id")
    if template_id is not None:
        template = session.get(AppTemplate, int(template_id))
        if (
            template is None
            or template.archived_at is not None
            or (template.organization_id is not None and template.organization_id not in checked.org_ids)
        ):
            raise ValidationFailed.single("app_template_id", "Choose one of your app templates.")
        clean["app_template_id"] = template.id
    plan = plan or Plan(organization_id=seller.id)
    for name, value in clean.items():
        setattr(plan, name, value)
    session.add(plan)
    session.flush()
    audit.record(
        session,
        "plans.save",
        actor_label=checked.email,
        target=("plan", plan.id),
        organization_id=seller.id,
        ip=ip,
        details={"slug": plan.slug, "price_cents": plan.price_cents},
    )
    return plan


def archive_plan(session: Session, actor: Actor | None, plan_id: int, *, ip: str = "") -> None:
    plan = session.get(Plan, plan_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="plans.archive",
        target=("plan", plan_id),
        organization_id=plan.organization_id if plan else -1,
    )
    assert plan is not None
    plan.archived_at = plan.archived_at or utcnow()
    session.add(plan)
    audit.record(
        session,
        "plans.archive",
        actor_label=checked.email,
        target=("plan", plan_id),
        organization_id=plan.organization_id,
        ip=ip,
        details={"slug": plan.slug},
    )


def delete_plan(session: Session, actor: Actor | None, plan_id: int, *, ip: str = "") -> None:
    """Only a plan nobody ever subscribed to; anything else is archived instead."""
    plan = session.get(Plan, plan_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="plans.delete",
        target=("plan", plan_id),
        organization_id=plan.organization_id if plan else -1,
    )
    assert plan is not None
    if session.exec(select(Subscription.id).where(Subscription.plan_id == plan_id)).first() is not None:
        raise ValidationFailed.single("", f"{plan.name} has subscriptions: archive it instead of deleting it.")
    audit.record(
        session,
        "plans.delete",
        actor_label=checked.email,
        target=("plan", plan_id),
        organization_id=plan.organization_id,
        ip=ip,
        details={"slug": plan.slug},
    )
    session.delete(plan)
