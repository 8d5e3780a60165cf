from __future__ import annotations

from sqlmodel import Session, func, select

from services.accounts.passwords import verify_password
from services.config import get_settings
from services.models import Budget, Instance, Organization, Plan, UsageDaily, UsageRecord, User
from services.seed import DEMO_LOGINS, seed_demo

COUNTED = (Organization, User, Plan, Instance, UsageRecord, UsageDaily, Budget)


def _counts(db: Session) -> dict[str, int]:
    return {m.__name__: db.exec(select(func.count()).select_from(m)).one() for m in COUNTED}


def test_seed_is_idempotent_and_gives_working_demo_logins(db: Session) -> None:
    seed_demo(db)
    db.commit()
    first = _counts(db)
    seed_demo(db)
    db.commit()
    assert _counts(db) == first
    assert first["Plan"] >= 3 and first["Instance"] >= 2 and first["UsageRecord"] > 0

    for email, username, _org, _role in DEMO_LOGINS:
        user = db.exec(select(User).where(User.email == email)).one()
        assert user.username == username and user.email_verified_at is not None
        assert verify_password(get_settings().demo_password, user.password_hash)


def test_seeded_budget_matches_seeded_usage(db: Session) -> None:
    """The demo's budget counters, its daily rollup and its raw records tell the same story, as the real ingest
    path keeps them; and the budget API a demo instance asks reads that same figure."""
    from decimal import Decimal

    from services.usage.ingest import budget_status

    seed_demo(db)
    db.commit()
    budgets = db.exec(select(Budget)).all()
    assert len(budgets) >= 2
    for budget in budgets:
        instance = db.exec(select(Instance).where(Instance.subscription_id == budget.subscription_id)).one()
        records = db.exec(select(func.sum(UsageRecord.cost_micros)).where(UsageRecord.instance_id == instance.id)).one()
        rolled = db.exec(select(func.sum(UsageDaily.cost_micros)).where(UsageDaily.instance_id == instance.id)).one()
        assert budget.used_micros == records == rolled and records > 0
        assert Decimal(budget_status(db, instance.id)["used"]) * 1_000_000 == records  # type: ignore[arg-type]


def test_seeded_instances_can_be_restarted_and_repaired(db: Session) -> None:
    """A demo instance is as provisioning leaves one: its generated secrets exist, so the spec that restart and
    repair render from the template builds (before, every demo restart parked on 'no attribute admin_password')."""
    from services.provisioning.spec import build_spec

    seed_demo(db)
    db.commit()
    for instance in db.exec(select(Instance)).all():
        spec = build_spec(db, instance)
        assert spec.env["ADMIN_PASSWORD"] and spec.env["SECRET_KEY"]
