"""The platform API and outbound webhooks at scale (issue: Platform API and outbound webhooks), on PostgreSQL.

(a) 10,000 customers across 50 resellers (bench/admin.py's data): p95 of `GET /api/v1/instances` (a page of 50)
    for a reseller admin's token and for the platform's, through HTTP on the API served by its own process
    (uvicorn, as the web processes serve it);
(b) 1,000 events (`customer.created`) fanned out to 10 endpoints (receivers on loopback that verify every
    signature), emitted at BENCH_EVENTS_PER_SECOND (50) by the job queue on Redis with one consumer as
    `portal.serve --role jobs` starts it: delivery lag p99 (from the event's commit to the receiver having
    verified it) and deliveries per second.

Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL). Run: .venv/bin/python bench/api.py
(BENCH_LAG_DUMP=<file> also writes each delivery's lag against the time its event was emitted).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
ENDPOINTS = int(os.environ.get("BENCH_ENDPOINTS", "10"))
RATE = float(os.environ.get("BENCH_EVENTS_PER_SECOND", "50"))
SAMPLES = 300
QUEUE = f"portal-bench-api-{uuid.uuid4().hex[:6]}"
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
RESELLERS = int(os.environ.get("BENCH_RESELLERS", "50"))
DB_NAME = "portal_bench_api"

from bench._support import free_port, percentile, temp_var
from bench._tenants import build_sellers, database_url, drop_database, recreate_database

# before anything of services that builds the job queue is imported: it is built at import from these
os.environ.update(
    {
        "DATABASE_URL": database_url(DB_NAME),
        "VAR_DIR": str(temp_var()),
        "ENVIRONMENT": "test",
        "SECRET_KEY": "bench-api-" + "x" * 40,
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE_NAME": QUEUE,
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "PROXY_BACKEND": "none",  # no instances here: the job service has no edge to look after
        # the bench measures latency, not the per-token limit (a token's counter in Redis outlives a run's database)
        "API_RATE_PER_TOKEN": "100000/minute",
    }
)
from services.config import reset_settings_cache

reset_settings_cache()

import httpx
from sqlmodel import Session, select

from services import worker  # connects every domain to the job queue, as every producing process does
from services.api.tokens import SCOPES, issue_api_token
from services.db import get_engine, session_scope
from services.models import Licence, Organization, OrgKind, User
from services.tenancy.licences import FEATURES
from services.webhooks import endpoints
from services.webhooks.outbox import emit
from tests.support.env import drop_queue


def _tokens(session: Session) -> tuple[str, list[str]]:
    for seller in session.exec(select(Organization).where(Organization.kind == OrgKind.RESELLER)).all():
        session.add(Licence(organization_id=seller.id, tier="pro", features=list(FEATURES)))  # type: ignore[arg-type]
    session.commit()
    operator = session.exec(select(User).where(User.username == "operator")).one()
    platform = session.exec(select(Organization).where(Organization.kind == OrgKind.PLATFORM)).one()
    platform_token = issue_api_token(session, operator.id, platform.id, "bench", list(SCOPES)).token  # type: ignore[arg-type]
    resellers = []
    for n in range(RESELLERS):
        person = session.exec(select(User).where(User.username == f"admin{n:02d}")).one()
        seller = session.exec(select(Organization).where(Organization.slug == f"reseller-{n:02d}")).one()
        resellers.append(issue_api_token(session, person.id, seller.id, "bench", ["instances:read"]).token)  # type: ignore[arg-type]
    session.commit()
    return platform_token, resellers


def _serve_api(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "portal.api:build_api",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code in (200, 503):
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the API did not start")


def instances_p95(base: str, tokens: list[str]) -> float:
    timings = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n in range(SAMPLES):
            token = tokens[n % len(tokens)]
            started = time.perf_counter()
            answer = client.get("/api/v1/instances", params={"limit": 50}, headers={"Authorization": f"Bearer {token}"})
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200 and answer.json()["items"], answer.text
    return percentile(timings, 95)


def fan_out(folder: Path, count: int, customer_ids: list[int]) -> tuple[float, float, int]:
    """EVENTS events at RATE a second; (lag p99 ms, deliveries/s, deliveries received and verified)."""
    consumer = subprocess.Popen(
        [sys.executable, "-m", "portal.serve", "--role", "jobs"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(3)
    emitted: dict[str, float] = {}
    started = time.perf_counter()
    try:
        for n in range(EVENTS):
            time.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            with session_scope() as session:
                msg_id = emit(session, customer_ids[n % len(customer_ids)], "customer.created", {"n": n}).msg_id
            emitted[msg_id] = time.time()
        expected, deadline = EVENTS * count, time.perf_counter() + 120
        while len(_arrivals(folder, count)) < expected and time.perf_counter() < deadline:
            time.sleep(0.2)
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
    arrivals = _arrivals(folder, count)
    lags = [(at - emitted[msg_id]) * 1000 for msg_id, at in arrivals if msg_id in emitted]
    if os.environ.get("BENCH_LAG_DUMP"):  # where a tail comes from: "<seconds since the first event> <lag ms>"
        first = min(emitted.values())
        lines = [f"{emitted[m] - first:.2f} {(at - emitted[m]) * 1000:.0f}" for m, at in arrivals if m in emitted]
        Path(os.environ["BENCH_LAG_DUMP"]).write_text("\n".join(lines) + "\n")
    span = max((at for _id, at in arrivals), default=time.time()) - min(emitted.values())
    return percentile(lags, 99) if lags else float("nan"), len(arrivals) / max(0.001, span), len(arrivals)


def _arrivals(folder: Path, count: int) -> list[tuple[str, float]]:
    found = []
    for n in range(count):
        path = folder / f"{n}.log"
        if path.exists():
            for line in path.read_text().splitlines():
                msg_id, _, at = line.partition(" ")
                if at:
                    found.append((msg_id, float(at)))
    return found


def _start_receivers(folder: Path, count: int) -> tuple[subprocess.Popen[str], list[int]]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_receivers.py"), str(folder), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, [int(process.stdout.readline()) for _ in range(count)]


def main() -> None:
    random.seed(13)
    recreate_database(DB_NAME)
    port = free_port()
    try:
        with Session(get_engine(), expire_on_commit=False) as session:
            build_sellers(session, RESELLERS, CUSTOMERS)
            platform_token, reseller_tokens = _tokens(session)
            seller = session.exec(select(Organization).where(Organization.slug == "reseller-00")).one()
            customers = list(
                session.exec(
                    select(Organization.id).where(Organization.parent_id == seller.id, Organization.kind == "customer")
                ).all()
            )
        api = _serve_api(port)
        try:
            base = f"http://127.0.0.1:{port}"
            # warm up, every token once: a token's first call in a minute records its last use (a write), as a
            # running integration's is once a minute, not one call in six as 50 tokens taking turns would make it
            instances_p95(base, [platform_token, *reseller_tokens])
            reseller_p95 = instances_p95(base, reseller_tokens)
            platform_p95 = instances_p95(base, [platform_token])
        finally:
            api.terminate()
            api.wait(timeout=30)
        print(f"configuration: PostgreSQL, {CUSTOMERS} customers across {RESELLERS} resellers, Redis queue")
        print(f"GET /api/v1/instances p95 reseller token: {reseller_p95:.1f} ms")
        print(f"GET /api/v1/instances p95 platform token: {platform_p95:.1f} ms")

        folder = temp_var()
        receivers, ports = _start_receivers(folder, ENDPOINTS)
        try:
            with session_scope() as session:
                for n, port in enumerate(ports):
                    _, secret = endpoints.create(
                        session,
                        seller.id,  # type: ignore[arg-type]
                        url=f"http://127.0.0.1:{port}/hooks",
                        event_types=["customer.created"],
                        user_id=None,
                        audit_fields={"actor_label": "bench"},
                    )
                    (folder / f"{n}.secret").write_text(secret)
            lag, rate, received = fan_out(folder, ENDPOINTS, customers)  # type: ignore[arg-type]
        finally:
            receivers.terminate()
            receivers.wait(timeout=10)
        print(f"events: {EVENTS} events at {RATE:g} events/s to {ENDPOINTS} endpoints")
        print(f"deliveries received and verified: {received} deliveries")
        print(f"delivery lag p99: {lag:.0f} ms")
        print(f"deliveries per second: {rate:.0f} deliveries/s")
    finally:
        get_engine().dispose()
        drop_queue(REDIS_URL, QUEUE)
        drop_database(DB_NAME)


if __name__ == "__main__":
    assert worker.huey is not None
    main()
