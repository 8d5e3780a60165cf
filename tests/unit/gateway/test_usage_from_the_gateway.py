"""The gateway's usage reports: only the gateway may send them, each call counts once, a bad record alone is
rejected; and the instance's environment carries its keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from portal.api import build_api
from services.keys.instance_keys import hash_key
from services.keys.usage_tokens import resolve_instance_token
from services.models import AppTemplate, Budget, Plan, Subscription, UsageRecord
from services.provisioning.spec import build_spec
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance

MASTER = "sk-master-" + "y" * 24
AI = {"ai_models": ["small-model"]}


def _record(call_id: str, instance_id: object, cost: str = "0.000010") -> dict:
    return {
        "id": call_id,
        "instance_id": instance_id,
        "model": "small-model",
        "tokens_in": 10,
        "tokens_out": 20,
        "cost": cost,
        "occurred_at": datetime.now(UTC).isoformat(),
    }


@pytest.fixture()
def client(settings_env: SettingsEnv) -> TestClient:
    settings_env.setenv("AI_GATEWAY_URL", "http://127.0.0.1:4000")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    return TestClient(build_api())


def _count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(UsageRecord)).one()


def test_each_call_counts_once_and_a_bad_record_is_rejected_alone(db: Session, client: TestClient) -> None:
    instance = customer_instance(db, "gw-usage", limits=AI)
    db.add(Budget(subscription_id=instance.subscription_id, total_micros=1000))  # type: ignore[arg-type]
    db.commit()
    batch = [
        _record("call-1", instance.id),
        _record("call-2", instance.id),
        _record("bad", instance.id, "-1"),
        _record("stray", 999_999),
        {"id": "no-instance"},
    ]
    answer = client.post("/api/gateway/usage", json={"records": batch}, headers={"Authorization": f"Bearer {MASTER}"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert {r["id"] for r in body["rejected"]} == {"bad", "stray", "no-instance"}
    again = client.post(
        "/api/gateway/usage", json={"records": batch[:2]}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)  # a resent batch counts nothing twice
    db.expire_all()
    assert _count(db) == 2
    budget = db.exec(select(Budget).where(Budget.subscription_id == instance.subscription_id)).one()
    assert budget.used_micros == 20


@pytest.mark.parametrize("authorization", ["", "Bearer ", "Bearer sk-master-", "Basic " + MASTER, "Bearer pit_x"])
def test_only_the_gateways_master_key_may_report(db: Session, client: TestClient, authorization: str) -> None:
    instance = customer_instance(db, "gw-auth", limits=AI)
    answer = client.post(
        "/api/gateway/usage", json={"records": [_record("c", instance.id)]}, headers={"Authorization": authorization}
    )
    assert answer.status_code == 401
    assert _count(db) == 0


def test_garbage_gets_a_clear_answer_and_changes_nothing(db: Session, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {MASTER}"}
    assert client.post("/api/gateway/usage", content=b"{nope", headers=headers).status_code == 400
    assert client.post("/api/gateway/usage", json={"records": []}, headers=headers).status_code == 422
    assert client.post("/api/gateway/usage", json=[1, 2], headers=headers).status_code == 422
    assert _count(db) == 0


def test_without_a_gateway_the_route_is_not_there(db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("AI_GATEWAY_URL", "")
    settings_env.setenv("AI_GATEWAY_MASTER_KEY", MASTER)
    answer = TestClient(build_api()).post("/api/gateway/usage", json={}, headers={"Authorization": f"Bearer {MASTER}"})
    assert answer.status_code == 404


def test_the_instance_environment_carries_its_portal_and_gateway_keys(
    db: Session, client: TestClient, settings_env: SettingsEnv
) -> None:
    instance = customer_instance(db, "gw-env", limits=AI)
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.limits = {**AI}  # type: ignore[union-attr]
    db.add(plan)
    template = db.get(AppTemplate, instance.app_template_id)
    template.env_template = (  # type: ignore[union-attr]
        "PORTAL_API_URL={{ portal.api_url }}\nPORTAL_USAGE_TOKEN={{ portal.usage_token }}\n"
        "AI_GATEWAY_URL={{ gateway.url }}\nAI_GATEWAY_KEY={{ gateway.key }}\nAI_GATEWAY_MODELS={{ gateway.models }}\n"
    )
    db.add(template)
    db.commit()
    env = build_spec(db, instance).env
    db.commit()
    owner = resolve_instance_token(db, f"Bearer {env['PORTAL_USAGE_TOKEN']}")
    assert owner is not None and owner.instance_id == instance.id
    assert env["PORTAL_API_URL"].endswith("/api/v1")
    assert env["AI_GATEWAY_URL"] == "http://127.0.0.1:4000"
    assert env["AI_GATEWAY_MODELS"] == "small-model"
    assert env["AI_GATEWAY_KEY"].startswith("sk-pgw-")
    again = build_spec(db, instance).env  # a redeploy keeps the same keys: nothing the instance holds breaks
    assert (again["PORTAL_USAGE_TOKEN"], again["AI_GATEWAY_KEY"]) == (env["PORTAL_USAGE_TOKEN"], env["AI_GATEWAY_KEY"])
    assert hash_key(env["AI_GATEWAY_KEY"]) != hash_key(env["PORTAL_USAGE_TOKEN"])

    settings_env.setenv("AI_GATEWAY_URL", "")
    without = build_spec(db, instance).env
    assert (without["AI_GATEWAY_URL"], without["AI_GATEWAY_KEY"]) == ("", "")
