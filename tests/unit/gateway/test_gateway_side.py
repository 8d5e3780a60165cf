"""The parts of the gateway's hook that run without LiteLLM: the usage spool against the portal's real route, and
the per-minute counters. (The hook itself is exercised on a real LiteLLM in tests/integration/test_ai_gateway.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from portal.api import build_api
from services.gateway.cache import policy_cache
from services.gateway.keys import rotate_gateway_key
from services.gateway.litellm_hooks import limits
from services.gateway.litellm_hooks.spool import Spool
from services.keys.instance_keys import hash_key
from services.models import Budget, UsageRecord
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance

MASTER = "sk-master-" + "s" * 24


def _body(call_id: str, instance_id: int) -> dict[str, object]:
    return {
        "id": call_id,
        "instance_id": instance_id,
        "model": "small-model",
        "tokens_in": 1,
        "tokens_out": 1,
        "cost": "0.000030",
        "occurred_at": "2026-12-01T00:00:00+00:00",
    }


def test_the_spool_delivers_once_survives_a_restart_and_stops_adding_what_the_rules_count(
    db: Session, settings_env: SettingsEnv, tmp_path: Path
) -> None:
    settings_env.setenv("AI_GATEWAY_URL", "http://127.0.0.1:4000")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    settings_env.setenv("REDIS_URL", "")
    instance = customer_instance(db, "gw-spool", limits={"ai_models": ["small-model"]})
    db.add(Budget(subscription_id=instance.subscription_id, total_micros=1000))  # type: ignore[arg-type]
    raw = rotate_gateway_key(db, instance)
    db.commit()
    key_hash = hash_key(raw)
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, "http://testserver", MASTER)
    spool.add("call-1", key_hash, 30, _body("call-1", instance.id))  # type: ignore[arg-type]
    spool.add("call-1", key_hash, 30, _body("call-1", instance.id))  # type: ignore[arg-type]  # the second hook
    assert spool.uncounted_micros(key_hash, rules_version=0.0) == 30  # once, not twice

    spool = Spool(path, "http://testserver", MASTER)  # a restart: what was not delivered is still there
    assert spool.uncounted_micros(key_hash, rules_version=0.0) == 30
    spool.add("call-2", key_hash, 30, _body("call-2", instance.id))  # type: ignore[arg-type]
    with TestClient(build_api()) as portal:
        assert spool.flush(portal) is False  # one batch held everything
        assert spool.flush(portal) is False  # nothing left: nothing sent again
    written = policy_cache().read(key_hash)
    assert written is not None and written["used_micros"] == 60
    assert spool.uncounted_micros(key_hash, rules_version=written["written_at"] - 1) == 60  # older rules: not in
    assert spool.uncounted_micros(key_hash, rules_version=written["written_at"]) == 0  # these rules count it
    db.expire_all()
    assert db.exec(select(func.count()).select_from(UsageRecord)).one() == 2


def test_a_report_the_portal_does_not_take_stays_counted_and_waits(
    db: Session, settings_env: SettingsEnv, tmp_path: Path
) -> None:
    settings_env.setenv("AI_GATEWAY_URL", "http://127.0.0.1:4000")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    spool = Spool(tmp_path / "spool.sqlite3", "http://testserver", "sk-wrong-secret")
    spool.add("call-9", "k" * 64, 30, _body("call-9", 1))
    with TestClient(build_api()) as portal, pytest.raises(RuntimeError, match="401"):
        spool.flush(portal)
    assert spool.uncounted_micros("k" * 64, rules_version=10**12) == 30  # not delivered: still ours to count


def test_requests_and_tokens_per_minute_are_counted_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    counters = limits.MinuteCounters()
    assert [counters.refusal("a", 2, None) for _ in range(2)] == [None, None]
    refused = counters.refusal("a", 2, None)
    assert refused is not None and "2 requests per minute" in refused[0] and 1 <= refused[1] <= 61
    assert counters.refusal("b", 2, None) is None  # another key has its own minute
    now[0] += 61
    assert counters.refusal("a", 2, None) is None  # the minute has moved on
    counters.add_tokens("c", 500)
    assert counters.refusal("c", None, 500) is not None
    assert counters.refusal("c", None, 501) is None
