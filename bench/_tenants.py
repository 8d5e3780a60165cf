"""Shared by the benchmarks that need many tenants in PostgreSQL: a database of their own, and customers built
through the real models (organization, owner, subscription, instance, budget) under the given sellers."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench._support import BIN, ROOT
from services.accounts.passwords import hash_password
from services.models import (
    AppTemplate,
    Budget,
    Instance,
    Membership,
    Organization,
    OrgKind,
    Plan,
    Role,
    Subscription,
    User,
)
from services.models.base import utcnow

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def recreate_database(name: str) -> str:
    """A fresh database migrated to head; returns its URL."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = database_url(name)
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    return url


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def create_customers(
    session: Session, sellers: list[tuple[Organization, Plan]], count: int, password_hash: str, prefix: str = "c"
) -> list[tuple[int, int]]:
    """`count` customers spread round-robin over the sellers; returns (user id, instance id) of each."""
    now = utcnow()
    result: list[tuple[int, int]] = []
    for start in range(0, count, 1000):
        numbers = range(start, min(start + 1000, count))
        placed = [(n, *sellers[n % len(sellers)]) for n in numbers]
        orgs = [
            Organization(name=f"Customer {n}", slug=f"{prefix}{n:05d}", kind=OrgKind.CUSTOMER, parent_id=seller.id)
            for n, seller, _plan in placed
        ]
        users = [
            User(
                email=f"{prefix}{n:05d}@bench.example",
                username=f"{prefix}{n:05d}",
                password_hash=password_hash,
                email_verified_at=now,
            )
            for n, _s, _p in placed
        ]
        session.add_all(orgs + users)
        session.flush()
        # one in ten of every seller's customers is past due, so a status filter has something to leave out
        subs = [
            Subscription(
                organization_id=o.id,
                plan_id=plan.id,  # type: ignore[arg-type]
                status="past_due" if (n // len(sellers)) % 10 == 9 else "active",
                current_period_end=now + timedelta(days=20),
                # as the failed payment's webhook left it (else a bench's first minute announces them all)
                grace_until=now + timedelta(days=7) if (n // len(sellers)) % 10 == 9 else None,
            )
            for o, (n, _s, plan) in zip(orgs, placed)
        ]
        session.add_all(
            subs
            + [
                Membership(user_id=u.id, organization_id=o.id, role=Role.OWNER)  # type: ignore[arg-type]
                for u, o in zip(users, orgs)
            ]
        )
        session.flush()
        instances = [
            Instance(
                organization_id=o.id,
                subscription_id=s.id,
                app_template_id=plan.app_template_id,  # type: ignore[arg-type]
                subdomain=o.slug,
                backend="docker",
                status="running",
            )
            for o, s, (_n, _seller, plan) in zip(orgs, subs, placed)
        ]
        session.add_all(instances)
        session.add_all(
            [
                Budget(
                    subscription_id=s.id,
                    total_micros=plan.budget_included_micros,
                    used_micros=0,  # type: ignore[arg-type]
                    period_start=now - timedelta(days=10),
                    reset_at=now + timedelta(days=20),
                )
                for s, (_n, _seller, plan) in zip(subs, placed)
            ]
        )
        session.flush()
        result += [(u.id, i.id) for u, i in zip(users, instances)]  # type: ignore[misc]
        session.commit()
    return result


def build_sellers(session: Session, resellers: int, customers: int) -> tuple[User, list[User]]:
    """A platform with an owner, `resellers` resellers each with a plan and an admin, and `customers` customers
    spread over them (ANALYZEd); returns the platform's owner and the resellers' admins."""
    password_hash = hash_password("bench-password-123")
    platform = Organization(name="Platform", slug="platform", kind=OrgKind.PLATFORM)
    template = AppTemplate(name="App", slug="app", image="portal-test/app:latest")
    session.add_all([platform, template])
    session.flush()
    sellers, admins = [], []
    for n in range(resellers):
        reseller = Organization(
            name=f"Reseller {n}", slug=f"reseller-{n:02d}", kind=OrgKind.RESELLER, parent_id=platform.id
        )
        session.add(reseller)
        session.flush()
        plan = Plan(
            organization_id=reseller.id,
            name=f"Plan {n}",
            slug=f"plan-{n}",
            price_cents=1000 + n,  # type: ignore[arg-type]
            stripe_price_id=f"price_{n}",
            app_template_id=template.id,
        )
        admin = User(email=f"admin{n}@reseller.example", username=f"admin{n:02d}", password_hash=password_hash)
        session.add_all([plan, admin])
        session.flush()
        session.add(Membership(user_id=admin.id, organization_id=reseller.id, role=Role.ADMIN))  # type: ignore[arg-type]
        sellers.append((reseller, plan))
        admins.append(admin)
    operator = User(email="operator@platform.example", username="operator", password_hash=password_hash)
    session.add(operator)
    session.flush()
    session.add(Membership(user_id=operator.id, organization_id=platform.id, role=Role.OWNER))  # type: ignore[arg-type]
    session.commit()
    create_customers(session, sellers, customers, password_hash)
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:  # type: ignore[union-attr]
        connection.execute(text("ANALYZE"))
    return operator, admins
