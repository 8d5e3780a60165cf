"""The AI gateway (issue: AI gateway), in one run: LiteLLM's proxy from .venv-gateway with demo models that answer
with a fixed text (no network), the portal's API routes in a process of their own receiving its usage.

(a) p95 of a mock chat completion through a gateway with the portal's hook and usage callback, called with an
    instance's key, against the same completion through a gateway with neither, called with LiteLLM's master key;
    the two take turns, ROUNDS each, after a warm-up; `ratio key to master`;
(b) p95 of the time from a request's end (the response in the client's hands) to its usage record in the portal
    (the record's received_at; one clock: everything runs on this machine);
(c) under `block`: CLIENTS clients spend on a small budget; a request started after the response that took the
    counted spend to 100 % and still served is a leak. Prints the requests served, refused and leaked.

Run: .venv-gateway must exist (make gateway-venv). .venv/bin/python bench/gateway.py
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import free_port, percentile, temp_var

VAR = temp_var()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "400"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
BLOCK_BUDGET = 2000  # micros: about 150 demo calls
MASTER = "sk-master-bench-" + "m" * 24
API_PORT, GATEWAY_PORT, PLAIN_PORT = free_port(), free_port(), free_port()
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(VAR),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{VAR / 'gateway.db'}"),
        "JOBS_IMMEDIATE": "true",
        "SECRET_KEY": "bench-" + "x" * 40,
        "AI_GATEWAY_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
        "AI_GATEWAY_MASTER_KEY": MASTER,
        "INTERNAL_URL": f"http://127.0.0.1:{API_PORT}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
        "JOBS_QUEUE_NAME": f"bench-gateway-{os.getpid()}",
    }
)

import httpx
from sqlmodel import Session, SQLModel, col, select

from services.db import get_engine
from services.gateway.keys import ensure_gateway_key
from services.models import Budget, Plan, Subscription, UsageRecord
from tests.support.edge import api_process
from tests.support.factories import customer_instance
from tests.support.gateway import Gateway, litellm_gateway

MODEL = "gpt-4o-mini"


def _instance(session: Session, name: str, policy: str, total: int) -> tuple[int, str]:
    instance = customer_instance(session, name, limits={"ai_models": [MODEL]})
    instance.status = "running"
    subscription = session.get(Subscription, instance.subscription_id)
    plan = session.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.budget_policy, plan.budget_included_micros = policy, total  # type: ignore[union-attr]
    session.add_all([instance, plan, Budget(subscription_id=subscription.id, total_micros=total)])  # type: ignore[union-attr,arg-type]
    session.commit()
    key = ensure_gateway_key(session, instance, plan)
    session.commit()
    assert key is not None and instance.id is not None
    return instance.id, key


def _latency(gateway: Gateway, plain: Gateway, key: str) -> tuple[list[float], list[float], dict[str, float]]:
    """Alternating calls; the key's call ids with the time each response was in hand."""
    with_key, with_master, ended = [], [], {}
    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # warm-up: connections, LiteLLM's first-call paths
            gateway.chat(key, MODEL, client)
            plain.chat(MASTER, MODEL, client)
        for n in range(ROUNDS):
            for target in ((gateway, key), (plain, MASTER)) if n % 2 == 0 else ((plain, MASTER), (gateway, key)):
                started = time.perf_counter()
                answer = target[0].chat(target[1], MODEL, client)
                elapsed = (time.perf_counter() - started) * 1000
                assert answer.status_code == 200, answer.text
                if target[0] is gateway:
                    with_key.append(elapsed)
                    ended[answer.headers["x-litellm-call-id"]] = time.time()
                else:
                    with_master.append(elapsed)
    return with_key, with_master, ended


def _lags(session: Session, instance_id: int, ended: dict[str, float]) -> list[float]:
    deadline = time.monotonic() + 60
    while True:
        rows = session.exec(
            select(UsageRecord.idempotency_key, UsageRecord.received_at).where(
                col(UsageRecord.instance_id) == instance_id, col(UsageRecord.idempotency_key).in_(list(ended))
            )
        ).all()
        if len(rows) == len(ended) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = len(ended) - len(rows)
    print(f"usage records missing: {missing} records")
    return [(received.replace(tzinfo=UTC).timestamp() - ended[call]) * 1000 for call, received in rows]


def _block(gateway: Gateway, key: str, total: int) -> tuple[int, int, int]:
    """CLIENTS clients until each is refused; (served, refused, leaked)."""
    lock = threading.Lock()
    events: list[tuple[float, float, int, int]] = []  # started, ended, status, cost in micros

    def client_loop() -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(200):
                started = time.monotonic()
                answer = gateway.chat(key, MODEL, client)
                cost = round(float(answer.headers.get("x-litellm-response-cost", "0") or 0) * 1_000_000)
                with lock:
                    events.append((started, time.monotonic(), answer.status_code, cost))
                if answer.status_code != 200:
                    return

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent, crossed_at = 0, None
    for _started, ended_at, status, cost in sorted(events, key=lambda e: e[1]):
        if status == 200:
            spent += cost
            if crossed_at is None and spent >= total:
                crossed_at = ended_at
    served = sum(1 for e in events if e[2] == 200)
    leaked = sum(1 for e in events if e[2] == 200 and crossed_at is not None and e[0] > crossed_at)
    return served, len(events) - served, leaked


def main() -> None:
    SQLModel.metadata.create_all(get_engine())
    with Session(get_engine(), expire_on_commit=False) as session:
        spender, spender_key = _instance(session, "bench-spender", "notify", 10**12)
        _blocked, blocked_key = _instance(session, "bench-blocked", "block", BLOCK_BUDGET)
    print(f"rounds: {ROUNDS} calls each")
    with (
        api_process(API_PORT),
        litellm_gateway(VAR, port=GATEWAY_PORT) as gateway,
        litellm_gateway(VAR, port=PLAIN_PORT, hooks=False) as plain,
    ):
        with_key, with_master, ended = _latency(gateway, plain, spender_key)
        key_p95, master_p95 = percentile(with_key, 95), percentile(with_master, 95)
        print(f"completion p95 with an instance key (hook and callback): {key_p95:.1f} ms")
        print(f"completion p95 with the master key (neither): {master_p95:.1f} ms")
        print(f"completion p50 with an instance key: {percentile(with_key, 50):.1f} ms")
        print(f"completion p50 with the master key: {percentile(with_master, 50):.1f} ms")
        print(f"ratio key to master: {key_p95 / master_p95:.2f} ratio")
        with Session(get_engine()) as session:
            lags = _lags(session, spender, ended)
        print(f"request end to usage record p95: {percentile(lags, 95) / 1000:.2f} s")
        print(f"request end to usage record p50: {percentile(lags, 50) / 1000:.2f} s")
        served, refused, leaked = _block(gateway, blocked_key, BLOCK_BUDGET)
        print(f"under block: {served} requests served, {refused} refused")
        print(f"requests after 100 % that got through: {leaked} requests")
    print(f"finished: {datetime.now(UTC):%H:%M:%S} UTC")


if __name__ == "__main__":
    main()
