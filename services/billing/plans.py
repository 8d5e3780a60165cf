"""Plans as the public pages show them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session, col, select

from services.gateway.keys import plan_models
from services.models import Organization, OrgKind, Plan
from services.money import format_cents, format_micros


@dataclass(frozen=True)
class PlanCard:
    slug: str
    name: str
    description: str
    price: str
    budget: str
    features: list[str]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _features(plan: Plan) -> list[str]:
    limits = plan.limits or {}
    features = []
    if mem := limits.get("memory_mb"):
        features.append(f"{mem} MB memory")
    if cpus := limits.get("cpus"):
        features.append(f"{cpus} vCPU")
    if projects := limits.get("max_concurrent_projects"):
        features.append(f"{projects} concurrent projects")
    if rpm := limits.get("max_requests_per_minute"):
        features.append(f"{rpm} requests per minute")
    if models := plan_models(plan):
        features.append("AI models: " + ", ".join(models))
    return features


def public_plans(session: Session, organization_id: int | None = None) -> list[PlanCard]:
    """The plans offered on the pricing page of `organization_id` (the platform when None)."""
    # the platform's id as a subquery: one round trip for the platform's pricing page and its customers' dashboards
    seller = (
        organization_id
        if organization_id is not None
        else select(col(Organization.id))
        .where(col(Organization.kind) == OrgKind.PLATFORM)
        .order_by(col(Organization.id))
        .limit(1)
        .scalar_subquery()
    )
    plans = session.exec(
        select(Plan)
        .where(col(Plan.organization_id) == seller, col(Plan.is_public), col(Plan.archived_at).is_(None))
        .order_by(col(Plan.sort_order), col(Plan.price_cents))
    ).all()
    return [
        PlanCard(
            slug=p.slug,
            name=p.name,
            description=p.description,
            price="Free" if p.is_free else f"{format_cents(p.price_cents, p.currency)} / {p.interval}",
            budget=f"{format_micros(p.budget_included_micros, p.currency)} usage budget included",
            features=_features(p),
        )
        for p in plans
    ]
