"""Customer dashboard at scale (issue: Customer dashboard), on PostgreSQL.

Generates 10,000 customers (organization, user, subscription, instance, budget) and their usage records, first
500,000 and then 5,000,000 in all, with the daily rollup, into a database of its own. Prints:
- dashboard load p95 (everything the dashboard page reads for one customer: services/dashboard.py plus the first
  page of recent records) at 500,000 and at 5,000,000 records, and the ratio of the two;
- usage ingestion through the HTTP API of the running production build: records/s with batches of 100;
- budget check p99: GET /api/v1/budget over HTTP (and the function alone);
- time until the dashboard page is interactive in headless Chromium on localhost, median of 5.

Needs PostgreSQL (BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a database
portal_bench_dashboard is created and dropped) and, for the browser figure, /usr/bin/chromium.
Run: .venv/bin/python bench/dashboard.py   (BENCH_CUSTOMERS, BENCH_RECORDS to scale down)
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "5000000"))
FIRST = RECORDS // 10
SAMPLES = 300
DB_NAME = "portal_bench_dashboard"

from bench._support import free_port, percentile, portal_env, running_portal, temp_var
from bench._tenants import create_customers, database_url, drop_database, recreate_database

DB_URL = database_url(DB_NAME)

VAR = temp_var()
os.environ.update(
    {
        "DATABASE_URL": DB_URL,
        "VAR_DIR": str(VAR),
        "ENVIRONMENT": "test",
        "JOBS_IMMEDIATE": "false",
        "SECRET_KEY": "bench-dashboard-" + "x" * 40,
        "PROXY_BACKEND": "none",
    }
)

import httpx
from sqlmodel import Session, select

from services.accounts.passwords import hash_password
from services.dashboard import load_dashboard
from services.db import get_engine
from services.keys.usage_tokens import issue_instance_token
from services.models import Instance, Organization, Plan
from services.models.base import utcnow
from services.seed import seed_demo
from services.usage.ingest import budget_status
from services.usage.reports import recent_records

PASSWORD = "bench-password-123"
MODELS = ("gpt-4o-mini", "claude-haiku", "llama-70b")


def create_all_customers(session: Session) -> list[tuple[int, int]]:
    """(user id, instance id) of every generated customer, all on the platform's Starter plan."""
    seed_demo(session)
    session.commit()
    platform = session.exec(select(Organization).where(Organization.slug == "platform")).one()
    plan = session.exec(select(Plan).where(Plan.slug == "starter")).one()
    return create_customers(session, [(platform, plan)], CUSTOMERS, hash_password(PASSWORD))


def add_records(first_instance: int, count: int, offset: int) -> float:
    """`count` records spread over all customers and the last 60 days, generated inside PostgreSQL."""
    started = time.perf_counter()
    with get_engine().begin() as connection:
        connection.execute(
            text("""
            INSERT INTO usage_record (instance_id, model, tokens_in, tokens_out, cost_micros, occurred_at,
                                      idempotency_key, received_at)
            SELECT CAST(:first AS bigint) + (n % :customers),
                   (ARRAY['gpt-4o-mini','claude-haiku','llama-70b'])[1 + (n / :customers) % 3],
                   100 + n % 5000, 20 + n % 900, 50 + n % 20000,
                   now() - make_interval(secs => (n * 7919) % (60 * 86400)),
                   'gen-' || n, now()
            FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS n"""),
            {"first": first_instance, "customers": CUSTOMERS, "start": offset, "stop": offset + count - 1},
        )
        connection.execute(text("TRUNCATE usage_daily"))
        connection.execute(
            text("""
            INSERT INTO usage_daily (instance_id, day, model, tokens_in, tokens_out, cost_micros, records)
            SELECT instance_id, (occurred_at AT TIME ZONE 'UTC')::date, model, sum(tokens_in), sum(tokens_out),
                   sum(cost_micros), count(*)
            FROM usage_record GROUP BY 1, 2, 3""")
        )
        connection.execute(
            text("""
            UPDATE budget SET used_micros = u.used FROM (
                SELECT i.subscription_id, sum(d.cost_micros) AS used FROM usage_daily d
                JOIN instance i ON i.id = d.instance_id
                WHERE d.day >= (now() - interval '10 days')::date GROUP BY 1) u
            WHERE budget.subscription_id = u.subscription_id""")
        )
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE usage_record"))
        connection.execute(text("VACUUM ANALYZE usage_daily"))
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def dashboard_p95(customers: list[tuple[int, int]]) -> float:
    """What the dashboard page reads on load, in a fresh session each time (as each page load does)."""
    timings = []
    for user_id, instance_id in random.sample(customers, min(SAMPLES, len(customers))):
        started = time.perf_counter()
        with Session(get_engine()) as session:
            view = load_dashboard(session, user_id)
            recent_records(session, instance_id, 1)
        timings.append((time.perf_counter() - started) * 1000)
        assert view.instance_id == instance_id
    return percentile(timings, 95)


def budget_function_p99(customers: list[tuple[int, int]]) -> float:
    timings = []
    for _user, instance_id in random.sample(customers, min(SAMPLES, len(customers))):
        started = time.perf_counter()
        with Session(get_engine()) as session:
            budget_status(session, instance_id)
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 99)


def issue_tokens(customers: list[tuple[int, int]], count: int) -> list[str]:
    tokens = []
    with Session(get_engine()) as session:
        for _user, instance_id in customers[:count]:
            tokens.append(issue_instance_token(session, session.get(Instance, instance_id)))  # type: ignore[arg-type]
        session.commit()
    return tokens


async def ingest_over_http(url: str, tokens: list[str], batches: int, concurrency: int = 8) -> tuple[float, int]:
    now = utcnow().isoformat()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(batches):
        queue.put_nowait(n)
    failures = 0

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            n = queue.get_nowait()
            records = [
                {
                    "id": f"http-{n}-{i}",
                    "model": MODELS[i % 3],
                    "tokens_in": 100,
                    "tokens_out": 20,
                    "cost": "0.0001",
                    "occurred_at": now,
                }
                for i in range(100)
            ]
            response = await client.post(
                url + "/api/v1/usage",
                json={"records": records},
                headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"},
            )
            if response.status_code != 200 or response.json().get("accepted") != 100:
                failures += 1

    async with httpx.AsyncClient(timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return batches * 100 / elapsed, failures


def budget_http_p99(url: str, tokens: list[str], calls: int = 500) -> float:
    timings = []
    with httpx.Client(timeout=10) as client:
        for n in range(calls):
            started = time.perf_counter()
            response = client.get(
                url + "/api/v1/budget", headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return percentile(timings[20:], 99)  # the first calls open the connection and warm the worker


def time_to_interactive(url: str, username: str, runs: int = 5) -> float | None:
    chromium = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.goto(url + "/login")
        page.fill("#identifier", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url("**/dashboard")
        for _ in range(runs):
            started = time.perf_counter()
            page.goto(url + "/dashboard")
            # interactive: the customer's own data is on screen and the restart button answers to clicks
            page.wait_for_function(
                """() => {
                const s = document.querySelector('#budget-summary');
                const b = document.querySelector('#restart-instance');
                return s && s.textContent.includes('Used $') && b && !b.disabled; }""",
                timeout=30_000,
            )
            timings.append((time.perf_counter() - started) * 1000)
        browser.close()
    return sorted(timings)[len(timings) // 2]


def main() -> None:
    random.seed(7)
    recreate_database(DB_NAME)
    print(f"configuration: PostgreSQL, {CUSTOMERS} customers, records {FIRST} then {RECORDS}", flush=True)
    started = time.perf_counter()
    with Session(get_engine(), expire_on_commit=False) as session:
        customers = create_all_customers(session)
    print(f"customers generated in: {time.perf_counter() - started:.1f} s", flush=True)
    first_instance = min(i for _u, i in customers)
    assert max(i for _u, i in customers) == first_instance + CUSTOMERS - 1

    seconds = add_records(first_instance, FIRST, 0)
    print(f"records generated ({FIRST}) in: {seconds:.1f} s", flush=True)
    dashboard_p95(customers[:20])  # warm the pool and the caches
    small = dashboard_p95(customers)
    print(f"dashboard load p95 at {FIRST} records: {small:.1f} ms", flush=True)

    seconds = add_records(first_instance, RECORDS - FIRST, FIRST)
    print(f"records generated ({RECORDS}) in: {seconds:.1f} s", flush=True)
    dashboard_p95(customers[:20])
    large = dashboard_p95(customers)
    print(f"dashboard load p95 at {RECORDS} records: {large:.1f} ms")
    print(f"dashboard load ratio {RECORDS} to {FIRST} records: {large / small:.2f}")
    print(f"budget check (function) p99: {budget_function_p99(customers):.2f} ms", flush=True)

    tokens = issue_tokens(customers, 50)
    port = free_port()
    env = portal_env(VAR, port, DATABASE_URL=DB_URL, PROXY_BACKEND="none")
    try:
        with running_portal(env) as url:
            budget_http_p99(url, tokens, 50)  # warm up
            rate, failures = asyncio.run(ingest_over_http(url, tokens, batches=300))
            print(f"usage ingestion over HTTP, batches of 100: {rate:.0f} records/s ({failures} failed batches)")
            print(f"budget check p99: {budget_http_p99(url, tokens):.2f} ms")
            tti = time_to_interactive(url, "c00001")
            print(
                "dashboard interactive in Chromium median of 5: "
                + (f"{tti:.0f} ms" if tti is not None else "skipped (no Chromium)")
            )
    finally:
        get_engine().dispose()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
