"""Admin console at scale (issue: White-label resellers and the admin console), on PostgreSQL.

10,000 customers across 50 resellers (each with its own plan and an admin), generated through the real models
into a database of its own. Prints the p95 of the customers page query (services/admin/customers.py: a status
filter, newest first, one page of 25 at a random offset, with its total) for the platform admin and for a
reseller admin, and the ratio of the two (the cost of scoping to a subtree; target <= 1.2).

Needs PostgreSQL (BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
Run: .venv/bin/python bench/admin.py   (BENCH_CUSTOMERS, BENCH_RESELLERS to scale down)
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import percentile, temp_var
from bench._tenants import build_sellers, database_url, drop_database, recreate_database

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
RESELLERS = int(os.environ.get("BENCH_RESELLERS", "50"))
SAMPLES = 300
DB_NAME = "portal_bench_admin"
os.environ.update(
    {
        "DATABASE_URL": database_url(DB_NAME),
        "VAR_DIR": str(temp_var()),
        "ENVIRONMENT": "test",
        "JOBS_IMMEDIATE": "true",
        "SECRET_KEY": "bench-admin-" + "x" * 40,
    }
)

from sqlmodel import Session

from services.admin.customers import PAGE_SIZE, list_customers
from services.db import get_engine
from services.tenancy.scope import Actor, resolve_actor


def build(session: Session) -> tuple[Actor, list[Actor]]:
    operator, admins = build_sellers(session, RESELLERS, CUSTOMERS)
    platform_actor = resolve_actor(session, operator.id, operator.email)  # type: ignore[arg-type]
    reseller_actors = [resolve_actor(session, a.id, a.email) for a in admins]  # type: ignore[arg-type]
    assert platform_actor is not None and all(reseller_actors)
    return platform_actor, reseller_actors  # type: ignore[return-value]


def page_p95(actors: list[Actor], customers_each: int) -> float:
    """Customers page: active subscriptions, newest first, a random page of those the actor can see."""
    timings = []
    pages = max(1, int(customers_each * 0.9) // PAGE_SIZE)
    for n in range(SAMPLES):
        actor = actors[n % len(actors)]
        started = time.perf_counter()
        with Session(get_engine()) as session:
            rows, total = list_customers(session, actor, status="active", sort="newest", page=random.randint(1, pages))
        timings.append((time.perf_counter() - started) * 1000)
        assert rows and total > 0
    return percentile(timings, 95)


def main() -> None:
    random.seed(11)
    recreate_database(DB_NAME)
    try:
        started = time.perf_counter()
        with Session(get_engine(), expire_on_commit=False) as session:
            platform_actor, reseller_actors = build(session)
            visible = len(list_customers(session, reseller_actors[0], page_size=10_000)[0])
        print(
            f"configuration: PostgreSQL, {CUSTOMERS} customers across {RESELLERS} resellers "
            f"(generated in {time.perf_counter() - started:.1f} s), pages of {PAGE_SIZE}"
        )
        assert visible == CUSTOMERS // RESELLERS, visible  # a reseller sees exactly its own customers
        page_p95([platform_actor], CUSTOMERS)  # warm up
        page_p95(reseller_actors, CUSTOMERS // RESELLERS)
        platform_p95 = page_p95([platform_actor], CUSTOMERS)
        reseller_p95 = page_p95(reseller_actors, CUSTOMERS // RESELLERS)
        print(f"customers page p95 platform admin: {platform_p95:.1f} ms")
        print(f"customers page p95 reseller admin: {reseller_p95:.1f} ms")
        print(f"ratio reseller to platform p95: {reseller_p95 / platform_p95:.2f}")
    finally:
        get_engine().dispose()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
