"""Plans as the public pages show them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session, col, select

from services.gateway.keys import plan_models
from services.i18n import N_
from services.i18n.message import Amount, localise, say
from services.models import Organization, OrgKind, Plan
from services.money import shown_cents

PER_INTERVAL = {"month": N_("{amount} / month"), "year": N_("{amount} / year")}


@dataclass(frozen=True)
class PlanCard:
    slug: str
    name: str
    description: str
    price: str
    budget: str
    features: list[str]

    def to_dict(self, language: str = "en") -> dict[str, object]:
        """The card as a page shows it, its price, budget and features in `language`."""
        shown = asdict(self)
        for name in ("price", "budget"):
            shown[name] = str(localise(getattr(self, name), language))
        shown["features"] = [str(localise(feature, language)) for feature in self.features]
        return shown


def price_said(plan: Plan) -> str:
    """`Free`, `$19 / month`, in the language where it is shown (services.i18n.message)."""
    if plan.is_free:
        return say("Free")
    amount = Amount(plan.price_cents, plan.currency)
    return say(PER_INTERVAL.get(plan.interval, "{amount} / {interval}"), amount=amount, interval=plan.interval)


def _features(plan: Plan) -> list[str]:
    limits = plan.limits or {}
    features: list[str] = []
    if mem := limits.get("memory_mb"):
        features.append(say("{mb} MB memory", mb=mem))
    if cpus := limits.get("cpus"):
        features.append(say("{cpus} vCPU", cpus=cpus))
    if projects := limits.get("max_concurrent_projects"):
        features.append(say("{projects} concurrent projects", projects=projects))
    if rpm := limits.get("max_requests_per_minute"):
        features.append(say("{rpm} requests per minute", rpm=rpm))
    if models := plan_models(plan):
        features.append(say("AI models: {models}", models=", ".join(models)))
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
            price=price_said(p),
            budget=say(
                "{amount} usage budget included",
                amount=Amount(shown_cents(p.budget_included_micros), p.currency),
            ),
            features=_features(p),
        )
        for p in plans
    ]
