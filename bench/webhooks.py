"""Webhook ingestion against the running production build (issue: Billing).

2,000 signed events (10 % duplicates, shuffled) from 50 concurrent senders to POST /api/stripe/webhook of
`python -m portal.serve` (SQLite, huey on SQLite: the embedded defaults), then the same sender against a bare
Starlette route that only verifies the signature, served by the same ASGI server (granian). Prints:
ack latency p50/p99, acknowledged events/s, time until the consumer handled all, ratio to the bare route,
events lost and events handled twice.

Run: .venv/bin/python bench/webhooks.py   (REDIS_URL=... to measure huey on Redis instead)
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._support import ROOT, free_port, portal_env, running_portal, temp_var

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
DUPLICATE_SHARE = 0.10
SENDERS = 50
SECRET = "whsec_bench_" + secrets.token_hex(12)
RUN = secrets.token_hex(4)
TYPES = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.deleted",
    "customer.updated",
]


def make_events(tag: str = "run") -> list[str]:
    """Events for customers this portal does not have: each is verified, stored, handled and marked ignored."""
    unique = []
    for n in range(int(EVENTS * (1 - DUPLICATE_SHARE))):
        kind = TYPES[n % len(TYPES)]
        obj = {
            "id": f"sub_bench_{n}",
            "object": "subscription",
            "customer": f"cus_bench_{n}",
            "status": "active",
            "metadata": {},
            "mode": "subscription",
            "subscription": f"sub_bench_{n}",
            "parent": {"subscription_details": {"subscription": f"sub_bench_{n}", "metadata": {}}},
        }
        unique.append(
            json.dumps(
                {
                    "id": f"evt_bench_{tag}_{n}_{RUN}",
                    "object": "event",
                    "type": kind,
                    "created": int(time.time()),
                    "livemode": False,
                    "api_version": "2026-10-28.endive",
                    "data": {"object": obj},
                }
            )
        )
    everything = unique + random.sample(unique, EVENTS - len(unique))
    random.shuffle(everything)
    return everything


WRK_THREADS = 2


def send_all(url: str, payloads: list[str]) -> dict[str, float]:
    """wrk (a C load generator) sends, so the sender's own speed does not decide the figures."""
    events_file = Path(tempfile.mkstemp(suffix=".tsv")[1])
    events_file.write_text(
        "".join(f"{stripe.WebhookSignature.generate_signature_header(p, SECRET)}\t{p}\n" for p in payloads)
    )
    env = {**os.environ, "BENCH_EVENTS_FILE": str(events_file), "BENCH_THREADS": str(WRK_THREADS)}
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(WRK_THREADS),
            "-c",
            str(SENDERS),
            "-d",
            "20s",
            "--timeout",
            "30s",
            "-s",
            str(ROOT / "bench" / "webhook_sender.lua"),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    events_file.unlink()
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}


def bare_route(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STRIPE_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "bench._bare_webhook:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("bare route did not start")


def handled(database_url: str) -> tuple[int, int, int]:
    """Stored, handled and handled-more-than-once events of the measured run."""
    from sqlalchemy import create_engine, text

    like = f"evt_bench_run_%_{RUN}"
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT count(*), sum(CASE WHEN status IN ('processed', 'ignored') THEN 1 ELSE 0 END), "
                    "sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM stripe_event WHERE stripe_id LIKE :like"
                ),
                {"like": like},
            ).one()
    finally:
        engine.dispose()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


@contextmanager
def database() -> Iterator[str]:
    """SQLite (the embedded default), or a fresh PostgreSQL database when BENCH_POSTGRES_URL names a server."""
    server = os.environ.get("BENCH_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{temp_var() / 'portal.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"portal_bench_{RUN}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure_portal(env: dict[str, str], payloads: list[str], unique: int):  # type: ignore[no-untyped-def]
    with running_portal(env) as url:
        send_all(url + "/api/stripe/webhook", list(dict.fromkeys(make_events("warm")))[:100])  # warm-up
        portal = send_all(url + "/api/stripe/webhook", payloads)
        sent_at = time.perf_counter()
        stored = done = twice = 0
        while time.perf_counter() - sent_at < 300:
            stored, done, twice = handled(env["DATABASE_URL"])
            if done >= unique:
                break
            time.sleep(0.2)
        return portal, stored, done, twice, time.perf_counter() - sent_at


def main() -> None:
    payloads = make_events()
    unique = len(set(payloads))
    var_dir = temp_var()
    port = free_port()
    with database() as database_url:
        env = portal_env(var_dir, port, STRIPE_WEBHOOK_SECRET=SECRET, DATABASE_URL=database_url)
        print(
            f"configuration: database {database_url.split(':')[0]}, job queue "
            f"{'redis' if os.environ.get('REDIS_URL') else 'sqlite'}"
        )
        portal, stored, done, twice, drained = measure_portal(env, payloads, unique)

    bare_port = free_port()
    bare = bare_route(bare_port)
    try:
        send_all(f"http://127.0.0.1:{bare_port}/api/stripe/webhook", payloads[:100])
        baseline = send_all(f"http://127.0.0.1:{bare_port}/api/stripe/webhook", payloads)
    finally:
        bare.terminate()
        bare.wait(timeout=10)

    rate = portal["requests"] / portal["seconds"]
    bare_rate = baseline["requests"] / baseline["seconds"]
    print(f"events: {len(payloads)} events ({unique} unique, {len(payloads) - unique} duplicates), {SENDERS} senders")
    print(f"ack p50: {portal['p50_ms']:.1f} ms")
    print(f"ack p99: {portal['p99_ms']:.1f} ms")
    print(f"acknowledged: {rate:.0f} events/s")
    print(f"handled all after last ack: {drained:.1f} s")
    print(f"bare route ack p50: {baseline['p50_ms']:.1f} ms")
    print(f"bare route ack p99: {baseline['p99_ms']:.1f} ms")
    print(f"bare route: {bare_rate:.0f} events/s")
    print(f"ratio p99 to bare route: {portal['p99_ms'] / baseline['p99_ms']:.2f}")
    print(f"ratio events/s bare route to portal: {bare_rate / rate:.2f}")
    print(f"non-200 answers: {portal['non200']:.0f} calls")
    print(f"stored: {stored} events")
    print(f"lost: {unique - done} events")
    print(f"handled twice: {twice} events")


if __name__ == "__main__":
    main()
