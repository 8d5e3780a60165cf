"""What a gateway key may do, and the cache the gateway's hook reads staying in step with every change."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from services.billing.budgets import ensure_budget_period
from services.config import get_settings
from services.gateway.cache import FolderPolicyCache
from services.gateway.keys import ensure_gateway_key, rotate_gateway_key
from services.gateway.policy import ACTIVE, BLOCKED, SUSPENDED, decide
from services.gateway.sync import sync_all
from services.keys.instance_keys import hash_key
from services.models import Budget, Instance, Plan, Subscription
from services.models.base import utcnow
from services.usage.ingest import UsageIn, ingest
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance

AI = {"ai_models": ["small-model"], "ai_rpm": 10, "ai_tpm": 1000}


@pytest.mark.parametrize(
    ("status", "subscription", "limits", "policy", "budget", "state"),
    [
        ("running", "active", AI, "block", (100, 99), ACTIVE),
        ("running", "active", AI, "block", (100, 100), BLOCKED),
        ("running", "active", AI, "suspend", (100, 150), BLOCKED),
        ("running", "active", AI, "notify", (100, 150), ACTIVE),  # notify never refuses
        ("running", "past_due", AI, "block", None, ACTIVE),  # grace: still allowed
        ("suspended", "active", AI, "block", (100, 0), SUSPENDED),
        ("deprovisioned", "active", AI, "block", (100, 0), SUSPENDED),
        ("running", "canceled", AI, "block", (100, 0), SUSPENDED),
        ("running", "active", {"memory_mb": 64}, "block", (100, 0), BLOCKED),  # a plan without AI models
    ],
)
def test_a_keys_state_follows_instance_subscription_plan_and_budget(
    status: str, subscription: str, limits: dict, policy: str, budget: tuple[int, int] | None, state: str
) -> None:
    rules = decide((1, 2, status), subscription, limits, policy, "usd", budget)
    assert rules.state == state
    assert (rules.reason == "") == (state == ACTIVE)
    if state == BLOCKED and budget and policy != "notify" and limits is AI:
        assert "budget" in rules.reason and "$1.00" not in rules.reason


def test_the_plans_limits_become_the_keys_limits() -> None:
    rules = decide((1, 2, "running"), "active", AI, "block", "usd", (100, 0))
    assert (rules.models, rules.rpm, rules.tpm) == (["small-model"], 10, 1000)
    odd = decide(
        (1, 2, "running"), "active", {"ai_models": ["m", 3], "ai_rpm": True, "ai_tpm": -5}, "block", "usd", None
    )
    assert (odd.models, odd.rpm, odd.tpm) == (["m"], None, None)  # garbage in a plan's JSON is not a limit


@pytest.fixture()
def gateway(settings_env: SettingsEnv, tmp_path: Path) -> FolderPolicyCache:
    settings_env.setenv("AI_GATEWAY_URL", "http://127.0.0.1:4000")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", "sk-master-" + "x" * 24)
    settings_env.setenv("REDIS_URL", "")
    return FolderPolicyCache(get_settings().var_dir / "gateway" / "keys")


def _metered(db: Session, name: str, policy: str = "block", total: int = 100) -> tuple[Instance, Plan, Budget]:
    instance = customer_instance(db, name, limits=dict(AI))
    subscription = db.get(Subscription, instance.subscription_id)
    assert subscription is not None
    plan = db.get(Plan, subscription.plan_id)
    assert plan is not None
    plan.budget_policy, plan.budget_included_micros = policy, total
    budget = Budget(subscription_id=subscription.id, total_micros=total, used_micros=0)  # type: ignore[arg-type]
    db.add_all([plan, budget])
    db.commit()
    return instance, plan, budget


def _spend(db: Session, instance: Instance, micros: int, key: str) -> None:
    ingest(db, instance.id, [UsageIn(key, "small-model", 1, 1, micros, utcnow())])  # type: ignore[arg-type]
    db.commit()


def test_the_cache_follows_each_committed_change_and_ignores_a_rolled_back_one(
    db: Session, gateway: FolderPolicyCache
) -> None:
    instance, plan, _budget = _metered(db, "gw-follow")
    raw = ensure_gateway_key(db, instance, plan)
    assert raw is not None and raw.startswith("sk-pgw-")
    db.commit()
    key_hash = hash_key(raw)
    assert gateway.read(key_hash)["state"] == ACTIVE  # issued: written at commit, nobody had to ask

    plan.limits = {**AI, "ai_models": ["small-model", "big-model"]}
    db.add(plan)
    db.commit()
    assert gateway.read(key_hash)["models"] == ["small-model", "big-model"]

    _spend(db, instance, 100, "call-1")  # the counter moves in SQL; ingestion itself tells the gateway
    rules = gateway.read(key_hash)
    assert (rules["state"], rules["used_micros"]) == (BLOCKED, 100)

    subscription = db.get(Subscription, instance.subscription_id)
    ensure_budget_period(db, subscription, plan, utcnow() + timedelta(days=30))  # type: ignore[arg-type]
    db.commit()
    assert gateway.read(key_hash)["state"] == ACTIVE  # a new period lets it through again

    instance.status = "suspended"
    db.add(instance)
    db.rollback()  # never committed: the cache must not move
    assert gateway.read(key_hash)["state"] == ACTIVE
    instance = db.get(Instance, instance.id)  # type: ignore[assignment]
    instance.status = "suspended"
    db.add(instance)
    db.commit()
    assert gateway.read(key_hash)["state"] == SUSPENDED

    fresh = rotate_gateway_key(db, instance)
    db.commit()
    assert gateway.read(key_hash) is None  # the old key stops at the gateway at once
    assert gateway.read(hash_key(fresh))["instance_id"] == instance.id


def test_a_plan_without_ai_models_gets_no_key_and_loses_the_one_it_had(db: Session, gateway: FolderPolicyCache) -> None:
    instance, plan, _budget = _metered(db, "gw-downgrade")
    raw = ensure_gateway_key(db, instance, plan)
    db.commit()
    plan.limits = {"memory_mb": 64}
    db.add(plan)
    assert ensure_gateway_key(db, instance, plan) is None
    db.commit()
    assert gateway.read(hash_key(raw or "")) is None


def test_the_minutes_sync_rewrites_lost_rules_and_forgets_keys_that_are_gone(
    db: Session, gateway: FolderPolicyCache
) -> None:
    instance, plan, _budget = _metered(db, "gw-repair")
    raw = ensure_gateway_key(db, instance, plan) or ""
    db.commit()
    gateway.forget([hash_key(raw)])  # a flushed Redis, a lost write
    (gateway.folder / ("0" * 64 + ".json")).write_text("{}")  # a key the portal no longer knows
    assert sync_all() == 1
    assert gateway.hashes() == {hash_key(raw)}


def test_nothing_is_written_while_no_gateway_is_configured(db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("AI_GATEWAY_URL", "")
    folder = FolderPolicyCache(get_settings().var_dir / "gateway" / "keys")
    folder.forget(folder.hashes())
    instance, _plan, _budget = _metered(db, "gw-off")
    rotate_gateway_key(db, instance)
    db.commit()
    assert folder.hashes() == set()
