"""Plans from the console: create, edit, archive; delete only what nothing uses.

A plan belongs to the organization that sells it; resellers edit their own, the platform everyone's. Archiving
takes a plan off the pricing page and out of signups but leaves its subscribers exactly as they are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from services import audit
from services.billing import plan_rollout
from services.billing.plan_rollout import LIMIT_FIELDS
from services.errors import ValidationFailed
from services.forms import parse
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import AppTemplate, Organization, Plan, PlanRollout, Subscription
from services.models.base import key, utcnow
from services.money import micros_as_decimal, parse_micros
from services.tenancy.scope import ADMIN_KINDS, Actor, authorise, visible
from services.usage.alerts import POLICIES

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
LIMIT_KEYS = (
    "memory_mb",
    "cpus",
    "max_concurrent_projects",
    "max_parallel_requests",
    "max_requests_per_minute",
    "backup_interval_hours",  # scheduled backups (services/provisioning/backup_schedule.py); 0 turns them off
    "backups_kept",
)
REGION = r"^[a-z0-9-]{0,40}$"


def list_plans(session: Session, actor: Actor | None, *, include_archived: bool = False) -> list[dict[str, Any]]:
    checked = authorise(session, actor, "view", action="plans.list", target=("plan", "*"))
    query = (
        select(Plan, Organization)
        .join(Organization, col(Organization.id) == col(Plan.organization_id))
        .where(visible(checked, col(Plan.organization_id)))
    )
    if not include_archived:
        query = query.where(col(Plan.archived_at).is_(None))
    used = dict(session.exec(select(col(Subscription.plan_id), func.count()).group_by(col(Subscription.plan_id))).all())
    return [
        {
            "id": str(p.id),
            "seller": o.name,
            "name": p.name,
            "slug": p.slug,
            "price_cents": str(p.price_cents),
            "stripe_price_id": p.stripe_price_id or "",
            "budget": str(micros_as_decimal(p.budget_included_micros).normalize()),
            "policy": p.budget_policy,
            "subscriptions": str(used.get(key(p), 0)),
            "memory_mb": str((p.limits or {}).get("memory_mb", "")),
            "cpus": str((p.limits or {}).get("cpus", "")),
            "backup_interval_hours": str((p.limits or {}).get("backup_interval_hours", "")),
            "backups_kept": str((p.limits or {}).get("backups_kept", "")),
            "region": p.region or "",
            "archived": "yes" if p.archived_at else "",
        }
        for p, o in session.exec(query.order_by(col(Organization.name), col(Plan.sort_order))).all()
    ]


def list_rollouts(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """Plan edits reaching existing subscribers in the actor's subtree, with their progress."""
    checked = authorise(session, actor, "view", action="plans.list", target=("plan_rollout", "*"))
    return plan_rollout.rollouts_of(session, visible(checked, col(PlanRollout.organization_id)))


class PlanForm(BaseModel):
    """The plan form of the console (also what the API will accept)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: str = Field(min_length=1, max_length=100, json_schema_extra={"message": "must be 1 to 100 characters"})
    slug: Annotated[str, BeforeValidator(lambda v: str(v or "").strip().lower())] = Field(
        pattern=SLUG, json_schema_extra={"message": "must be 2 to 63 lowercase letters, digits or hyphens"}
    )
    description: str = Field("", max_length=500)
    price_cents: int = Field(0, ge=0, le=100_000_000)
    budget_included_micros: int = Field(0, ge=0, le=10**15)
    grace_days: int = Field(7, ge=0, le=365)
    retention_days: int = Field(30, ge=1, le=3650)
    budget_policy: Literal["notify", "block", "suspend"] = Field(
        "notify", json_schema_extra={"message": f"must be one of {', '.join(POLICIES)}"}
    )
    stripe_price_id: Annotated[str | None, BeforeValidator(lambda v: str(v or "").strip() or None)] = Field(
        None, max_length=100
    )
    limits: dict[str, int | float] = Field(default_factory=dict)
    # its instances are placed only on servers of this region (services/capacity/placement.py); blank: anywhere
    region: Annotated[str | None, BeforeValidator(lambda v: str(v or "").strip().lower() or None)] = Field(
        None, pattern=REGION, json_schema_extra={"message": "is a short label of lowercase letters, digits, dashes"}
    )
    app_template_id: int | None = None

    @field_validator("limits")
    @classmethod
    def _known_limits(cls, limits: dict[str, int | float]) -> dict[str, int | float]:
        if unknown := sorted(set(limits) - set(LIMIT_KEYS)):
            raise ValueError(f"unknown limits: {', '.join(unknown)}")
        if any(not 0 <= float(value) <= 10**9 for value in limits.values()):
            raise ValueError("limits are numbers from 0 to 1,000,000,000")
        return limits

    @model_validator(mode="before")
    @classmethod
    def _budget_in_units(cls, values: Any) -> Any:
        """The console types the budget in currency units (`budget`: 25 or 12.50); stored as micros."""
        if (
            isinstance(values, dict)
            and values.get("budget") not in (None, "")
            and "budget_included_micros" not in values
        ):
            return {**values, "budget_included_micros": parse_micros(values["budget"], "budget_included_micros")}
        return values


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
    form = parse(PlanForm, _with_current(plan, values))
    if form.price_cents > 0 and not form.stripe_price_id:
        raise ValidationFailed.single("stripe_price_id", N_("a paid plan needs its Stripe price id"))
    clean = form.model_dump(exclude={"app_template_id"})
    clean["limits"] = _kept_limits(plan, values, clean["limits"])
    taken = session.exec(
        select(col(Plan.id)).where(col(Plan.organization_id) == seller.id, col(Plan.slug) == clean["slug"])
    ).first()
    if taken is not None and taken != plan_id:
        raise ValidationFailed.single(
            "slug", say("{name} already has a plan called {slug!r}.", name=seller.name, slug=clean["slug"])
        )
    if form.app_template_id is not None:
        template = session.get(AppTemplate, form.app_template_id)
        if (
            template is None
            or template.archived_at is not None
            or (template.organization_id is not None and template.organization_id not in checked.org_ids)
        ):
            raise ValidationFailed.single("app_template_id", N_("Choose one of your app templates."))
        clean["app_template_id"] = template.id
    existing = plan is not None
    before = {name: getattr(plan, name) for name in (*LIMIT_FIELDS, "stripe_price_id")} if plan else {}
    plan = plan or Plan(organization_id=key(seller), name=clean["name"], slug=clean["slug"])
    for name, value in clean.items():
        setattr(plan, name, value)
    session.add(plan)
    session.flush()
    if existing:
        _reach_subscribers(session, plan, before, checked.email, reprice_existing=_yes(values.get("reprice_existing")))
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


def _kept_limits(plan: Plan | None, values: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """A form that shows some limits changes those: the plan's other limits (its AI models, its rate limits) stay
    as they are, and a field left blank (`limits_cleared`) removes its own."""
    if plan is None:
        return typed
    if "limits" not in values:
        return dict(plan.limits or {})
    cleared = set(values.get("limits_cleared") or ())
    kept = {k: v for k, v in (plan.limits or {}).items() if k not in cleared and k not in typed}
    return {**kept, **typed}


def _with_current(plan: Plan | None, values: dict[str, Any]) -> dict[str, Any]:
    """An edit names what it changes: every field it leaves out keeps the plan's current value (a form without
    the limits must not wipe them; one that shows some keeps the others: _kept_limits)."""
    if plan is None:
        return values
    current = {
        name: getattr(plan, name)
        for name in PlanForm.model_fields
        if name not in values and name not in ("app_template_id", "limits")  # limits: _kept_limits
    }
    if "budget" in values:
        current.pop("budget_included_micros", None)
    return {**current, **values}


def _yes(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _reach_subscribers(
    session: Session, plan: Plan, before: dict[str, Any], editor: str, *, reprice_existing: bool
) -> None:
    """An edit of a plan with subscribers: new limits roll out to their instances; a new price reaches existing
    subscriptions (from their next period, each told first) only when the editor chose so."""
    if any(before[name] != getattr(plan, name) for name in LIMIT_FIELDS):
        plan_rollout.start_limits(session, plan, editor)
    old_price = before.get("stripe_price_id")
    if reprice_existing and old_price and plan.stripe_price_id and old_price != plan.stripe_price_id:
        plan_rollout.start_price(session, plan, old_price, editor)


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
    if session.exec(select(col(Subscription.id)).where(col(Subscription.plan_id) == plan_id)).first() is not None:
        raise ValidationFailed.single(
            "", say("{name} has subscriptions: archive it instead of deleting it.", name=plan.name)
        )
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
