"""The pricing page's cards: prices and budgets in the plan's currency, limits as words, the seller's own plans."""

from __future__ import annotations

from sqlmodel import Session

from services.billing.plans import public_plans
from services.models import Organization, OrgKind, Plan


def test_cards_show_price_budget_and_every_limit(db: Session) -> None:
    assert public_plans(db) == []  # no platform yet: nothing to sell, no error
    platform = Organization(name="Platform", slug="platform", kind=OrgKind.PLATFORM)
    reseller = Organization(name="Acme", slug="acme", kind=OrgKind.RESELLER)
    db.add(platform)
    db.add(reseller)
    db.flush()
    limits = {"memory_mb": 512, "cpus": 1.5, "max_concurrent_projects": 3, "max_requests_per_minute": 60}
    db.add(
        Plan(
            organization_id=platform.id,
            name="Pro",
            slug="pro",
            price_cents=1999,
            currency="eur",
            limits=limits,
            budget_included_micros=12_500_000,
            sort_order=2,
        )
    )
    db.add(Plan(organization_id=platform.id, name="Free", slug="free", price_cents=0, sort_order=1))
    db.add(Plan(organization_id=platform.id, name="Hidden", slug="hidden", price_cents=5, is_public=False))
    db.add(Plan(organization_id=reseller.id, name="Acme Only", slug="acme-only", price_cents=100))
    db.commit()

    cards = public_plans(db)
    assert [c.slug for c in cards] == ["free", "pro"]
    free, pro = cards
    assert free.price == "Free" and free.features == []
    assert "19.99" in pro.price and pro.price.endswith("/ month")
    assert "12.50" in pro.budget
    assert pro.features == ["512 MB memory", "1.5 vCPU", "3 concurrent projects", "60 requests per minute"]
    assert pro.to_dict()["name"] == "Pro"
    assert [c.slug for c in public_plans(db, reseller.id)] == ["acme-only"]
