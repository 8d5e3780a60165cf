"""The AI gateway for real: LiteLLM's proxy (its own virtualenv) with the portal's hook and callback, demo models
answering with a fixed text, and the portal's API routes on loopback receiving its usage.

An instance's key spends and the dashboard's budget moves; a model outside the plan, a used-up budget under
`block` and a suspended instance are refused at the gateway; a new period, a plan change (by commit or by the
minute's reconciliation) and a rotation change what it enforces; and neither a gateway killed mid-burst nor a
portal that is down loses or doubles a usage record."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from services.billing.budgets import ensure_budget_period
from services.config import get_settings
from services.dashboard import load_dashboard
from services.gateway.keys import ensure_gateway_key, rotate_gateway_key
from services.gateway.sync import sync_all
from services.models import Budget, Instance, Plan, Subscription, UsageRecord
from services.models.base import utcnow
from tests.support.edge import api_server
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance
from tests.support.gateway import Gateway, litellm_gateway
from tests.support.servers import free_port
from tests.support.tenants import customer

MASTER = "sk-master-" + "t" * 24
CHEAP, OTHER = "gpt-4o-mini", "gpt-4o"


@pytest.fixture(params=["folder", "redis"])
def portal_and_gateway(request: pytest.FixtureRequest, settings_env: SettingsEnv) -> Iterator[Gateway]:
    """The portal's API routes and a gateway that reports to them, sharing the key cache (a folder, or Redis)."""
    if request.param == "redis":
        redis_url = os.environ.get("PORTAL_TEST_REDIS_URL", "")
        if not redis_url:
            if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
                pytest.fail("PORTAL_TEST_REDIS_URL is not set but PORTAL_REQUIRE_ALL=1")
            pytest.skip("Redis not available: set PORTAL_TEST_REDIS_URL")
        settings_env.setenv("REDIS_URL", redis_url)
        settings_env.setenv("JOBS_QUEUE_NAME", f"gw-test-{os.getpid()}-{time.monotonic_ns()}")
    else:
        settings_env.setenv("REDIS_URL", "")
    api_port, gateway_port = free_port(), free_port()
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{gateway_port}")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    settings_env.setenv("INTERNAL_URL", f"http://127.0.0.1:{api_port}")
    with api_server(api_port), litellm_gateway(get_settings().var_dir, port=gateway_port) as gateway:
        yield gateway


def _ai_instance(db: Session, name: str, policy: str, total_micros: int) -> tuple[Instance, Plan, str]:
    instance = customer_instance(db, name, limits={"ai_models": [CHEAP], "ai_rpm": 1000})
    instance.status = "running"
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    assert plan is not None and subscription is not None
    plan.budget_policy, plan.budget_included_micros = policy, total_micros
    db.add_all([instance, plan, Budget(subscription_id=subscription.id, total_micros=total_micros)])  # type: ignore[arg-type]
    db.commit()
    key = ensure_gateway_key(db, instance, plan)
    db.commit()
    assert key is not None
    return instance, plan, key


def _records(db: Session, instance_id: int) -> list[str]:
    db.expire_all()
    return list(db.exec(select(UsageRecord.idempotency_key).where(UsageRecord.instance_id == instance_id)).all())


def _wait(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_key_spends_within_its_plan_and_is_refused_at_the_gateway_once_the_budget_is_used(
    portal_and_gateway: Gateway, db: Session
) -> None:
    gateway = portal_and_gateway
    instance, plan, key = _ai_instance(db, "gw-block", "block", total_micros=40)
    outside = gateway.chat(key, OTHER)
    assert outside.status_code == 403 and "not in this instance's plan" in outside.text
    assert gateway.chat("sk-pgw-not-a-key", CHEAP).status_code == 401

    answers = []
    while len(answers) < 20 and (not answers or answers[-1].status_code == 200):
        answers.append(gateway.chat(key, CHEAP))
    *served, refused = answers
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["type"] == "budget_exceeded" and "Budget exceeded" in refused.text
    costs = [round(float(a.headers["x-litellm-response-cost"]) * 1_000_000) for a in served]
    assert sum(costs) >= 40 > sum(costs[:-1])  # refused at the first request after the one that crossed 100 %

    call_ids = {a.headers["x-litellm-call-id"] for a in served}
    _wait(lambda: set(_records(db, instance.id)) == call_ids)  # type: ignore[arg-type]
    view = load_dashboard(db, customer(db, "gw-block"))
    assert view.budget_percent == 100 and view.budget_used != "$0.00"
    assert (view.ai_key_state, view.ai_models) == ("blocked", [CHEAP])
    assert "budget" in view.ai_key_reason and view.usage_lag.endswith(("s", "min"))
    assert gateway.chat(key, CHEAP).status_code == 422  # still refused once the portal has counted it

    subscription = db.get(Subscription, instance.subscription_id)
    ensure_budget_period(db, subscription, plan, utcnow() + timedelta(days=30))  # type: ignore[arg-type]
    db.commit()
    assert gateway.chat(key, CHEAP).status_code == 200  # a new period lets it through at once


def test_plan_changes_suspension_and_rotation_change_what_the_gateway_enforces(
    portal_and_gateway: Gateway, db: Session
) -> None:
    gateway = portal_and_gateway
    instance, plan, key = _ai_instance(db, "gw-change", "notify", total_micros=10)
    for _ in range(3):  # far beyond the budget: `notify` refuses nothing
        assert gateway.chat(key, CHEAP).status_code == 200

    plan.limits = {"ai_models": [CHEAP, OTHER], "ai_rpm": 1000}  # a plan change, committed
    db.add(plan)
    db.commit()
    assert gateway.chat(key, OTHER).status_code == 200

    # changed behind the portal's back (no commit hook sees it): the minute's reconciliation applies it
    db.execute(
        text("UPDATE plan SET limits = :limits WHERE id = :id"), {"limits": '{"ai_models": ["gpt-4o"]}', "id": plan.id}
    )
    db.commit()
    sync_all()
    assert gateway.chat(key, CHEAP).status_code == 403
    assert gateway.chat(key, OTHER).status_code == 200

    instance = db.get(Instance, instance.id)  # type: ignore[assignment]
    instance.status = "suspended"
    db.add(instance)
    db.commit()
    suspended = gateway.chat(key, OTHER)
    assert suspended.status_code == 403 and "suspended" in suspended.text

    instance.status = "running"
    db.add(instance)
    fresh = rotate_gateway_key(db, instance)
    db.commit()
    assert gateway.chat(key, OTHER).status_code == 401  # the old key is gone
    assert gateway.chat(fresh, OTHER).status_code == 200


def test_rate_limits_of_the_plan_are_applied_per_key(portal_and_gateway: Gateway, db: Session) -> None:
    gateway = portal_and_gateway
    _instance, plan, key = _ai_instance(db, "gw-rate", "notify", total_micros=10**9)
    plan.limits = {"ai_models": [CHEAP], "ai_rpm": 3}
    db.add(plan)
    db.commit()
    codes = [gateway.chat(key, CHEAP).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_an_instance_key_reaches_only_the_model_api_and_only_its_plans_models(
    portal_and_gateway: Gateway, db: Session
) -> None:
    gateway = portal_and_gateway
    _instance, _plan, key = _ai_instance(db, "gw-routes", "notify", total_micros=10**9)
    headers = {"Authorization": f"Bearer {key}"}
    for method, path, body in [
        ("POST", "/key/generate", {"models": [OTHER]}),  # LiteLLM's own key management
        ("POST", "/model/new", {"model_name": "x", "litellm_params": {"model": "openai/x"}}),
        ("GET", "/config/yaml", None),
        ("GET", "/global/spend/logs", None),
        ("POST", "/openai/chat/completions", {"model": OTHER, "messages": []}),  # a provider pass-through
    ]:
        answer = httpx.request(method, gateway.url + path, json=body, headers=headers, timeout=10)
        assert answer.status_code in (403, 404), (path, answer.status_code, answer.text[:200])
    sneaky = gateway.chat(key, CHEAP, fallbacks=[OTHER])  # a request-level fallback to a model outside the plan
    assert sneaky.status_code == 400 and "fallbacks" in sneaky.text
    listed = httpx.get(gateway.url + "/v1/models", headers=headers, timeout=10)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["data"]] == [CHEAP]


@contextmanager
def _burst(gateway: Gateway, key: str, count: int) -> Iterator[list[httpx.Response | Exception]]:
    """`count` requests, eight at a time, gathered when the block ends."""
    results: list[httpx.Response | Exception] = []

    def one(_n: int) -> None:
        try:
            with httpx.Client(timeout=20) as client:
                results.append(gateway.chat(key, CHEAP, client))
        except httpx.HTTPError as exc:
            results.append(exc)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(one, n) for n in range(count)]
        yield results
        for future in futures:
            future.result()


def test_a_gateway_killed_mid_burst_loses_no_usage_and_counts_none_twice(
    portal_and_gateway: Gateway, db: Session
) -> None:
    gateway = portal_and_gateway
    instance, _plan, key = _ai_instance(db, "gw-kill", "notify", total_micros=10**9)
    with _burst(gateway, key, 80) as results:
        _wait(lambda: len(results) >= 25)
        gateway.kill()
    served = {r.headers["x-litellm-call-id"] for r in results if isinstance(r, httpx.Response) and r.status_code == 200}
    assert len(served) >= 25
    gateway.start()  # the same spool: what was not yet delivered goes now
    _wait(lambda: served <= set(_records(db, instance.id)), timeout=30)  # type: ignore[arg-type]
    stored = _records(db, instance.id)  # type: ignore[arg-type]
    assert len(stored) == len(set(stored))
    assert len(stored) <= len(results)  # at most the calls made: none counted twice
    budget = db.exec(select(Budget).where(Budget.subscription_id == instance.subscription_id)).one()
    total = db.exec(select(func.sum(UsageRecord.cost_micros)).where(col(UsageRecord.instance_id) == instance.id)).one()
    assert budget.used_micros == total  # the counter moved once per record


def test_usage_made_while_the_portal_is_down_arrives_once_it_is_back(settings_env: SettingsEnv, db: Session) -> None:
    settings_env.setenv("REDIS_URL", "")
    api_port, gateway_port = free_port(), free_port()
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{gateway_port}")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    settings_env.setenv("INTERNAL_URL", f"http://127.0.0.1:{api_port}")
    instance, _plan, key = _ai_instance(db, "gw-down", "notify", total_micros=10**9)
    with litellm_gateway(get_settings().var_dir, port=gateway_port) as gateway:
        served = {gateway.chat(key, CHEAP).headers["x-litellm-call-id"] for _ in range(5)}  # the portal is down
        time.sleep(1.5)
        assert _records(db, instance.id) == []  # type: ignore[arg-type]
        with api_server(api_port):
            _wait(lambda: set(_records(db, instance.id)) == served, timeout=45)  # type: ignore[arg-type]
