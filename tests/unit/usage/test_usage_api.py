"""The usage API: instance tokens, all-or-nothing batches, idempotency, the budget counter, isolation."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, func, select

from services.keys.usage_tokens import issue_instance_token
from services.models import Budget, Instance, UsageDaily, UsageRecord
from tests.support.asgi import api_client, run_in_own_loop
from tests.support.factories import customer_instance

NOW = datetime.now(UTC).isoformat()


def _call(method: str, path: str, token: str | None, json_body: object | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        async with api_client() as client:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await client.request(method, path, json=json_body, headers=headers)

    return run_in_own_loop(go())


@pytest.fixture()
def tenants(db: Session) -> dict[str, tuple[Instance, str]]:
    result = {}
    for name in ("alpha", "beta"):
        instance = customer_instance(db, name)
        db.add(Budget(subscription_id=instance.subscription_id, total_micros=10_000_000, used_micros=0))  # type: ignore[arg-type]
        token = issue_instance_token(db, instance)
        db.commit()
        result[name] = (instance, token)
    return result


def _record(key: str, cost: str = "1.25", model: str = "gpt-x") -> dict:
    return {"id": key, "model": model, "tokens_in": 100, "tokens_out": 50, "cost": cost, "occurred_at": NOW}


def test_a_batch_moves_the_counter_once_even_when_retried(db: Session, tenants: dict) -> None:
    _instance, token = tenants["alpha"]
    batch = {"records": [_record("r1"), _record("r2", "0.000001", "small-model")]}
    first = _call("POST", "/api/v1/usage", token, batch)
    assert first.status_code == 200 and first.json()["accepted"] == 2
    again = _call("POST", "/api/v1/usage", token, batch)
    assert again.json() == {**again.json(), "accepted": 0, "duplicates": 2}
    budget = _call("GET", "/api/v1/budget", token).json()
    assert budget["used"] == "1.250001" and budget["remaining"] == "8.749999" and budget["allowed"] is True
    db.expire_all()
    assert db.exec(select(func.count()).select_from(UsageRecord)).one() == 2
    daily = db.exec(select(UsageDaily).where(UsageDaily.model == "gpt-x")).one()
    assert daily.cost_micros == 1_250_000 and daily.tokens_in == 100 and daily.records == 1


def test_a_malformed_record_rejects_the_whole_batch_naming_record_and_field(db: Session, tenants: dict) -> None:
    _instance, token = tenants["alpha"]
    bad = {"records": [_record("ok1"), {**_record("bad"), "tokens_out": -3}]}
    response = _call("POST", "/api/v1/usage", token, bad)
    assert response.status_code == 422
    assert response.json()["fields"] == {"records[1].tokens_out": "must be a whole number from 0 to 1000000000000"}
    for field, value in (("cost", "1.0000001"), ("cost", "abc"), ("occurred_at", "yesterday"), ("id", "")):
        response = _call("POST", "/api/v1/usage", token, {"records": [{**_record("x"), field: value}]})
        assert response.status_code == 422 and f"records[0].{field}" in response.json()["fields"]
    assert db.exec(select(func.count()).select_from(UsageRecord)).one() == 0


def test_tokens_cannot_reach_another_instance_and_rotation_revokes(db: Session, tenants: dict) -> None:
    alpha, alpha_token = tenants["alpha"]
    beta, _ = tenants["beta"]
    assert _call("GET", "/api/v1/budget", "pit_not-a-real-token").status_code == 401
    assert _call("GET", "/api/v1/budget", None).status_code == 401
    body = {"records": [{**_record("sneaky"), "instance_id": beta.id}]}  # ids in the body are ignored
    assert _call("POST", "/api/v1/usage", alpha_token, body).status_code == 200
    db.expire_all()
    assert {r.instance_id for r in db.exec(select(UsageRecord)).all()} == {alpha.id}
    beta_budget = db.exec(select(Budget).where(Budget.subscription_id == beta.subscription_id)).one()
    assert beta_budget.used_micros == 0

    new_token = issue_instance_token(db, alpha)
    db.commit()
    assert _call("GET", "/api/v1/budget", alpha_token).status_code == 401
    assert _call("GET", "/api/v1/budget", new_token).status_code == 200


def test_record_shapes_and_counters_at_their_limits(db: Session, tenants: dict) -> None:
    instance, token = tenants["alpha"]
    for records, field in (
        ([["not an object"]], "records[0]."),
        ([_record("same"), _record("same")], "records[1].id"),
        ([{**_record("naive"), "occurred_at": "2026-01-01T10:00:00"}], "records[0].occurred_at"),
    ):
        response = _call("POST", "/api/v1/usage", token, {"records": records})
        assert response.status_code == 422 and field in response.json()["fields"]
    budget = db.exec(select(Budget).where(Budget.subscription_id == instance.subscription_id)).one()
    budget.used_micros = 2**63 - 10
    db.add(budget)
    db.commit()
    response = _call("POST", "/api/v1/usage", token, {"records": [_record("big")]})
    assert response.status_code == 422 and "overflow" in response.json()["fields"]["records"]
    budget.used_micros = 0
    db.add(budget)
    db.add(UsageDaily(instance_id=instance.id, day=datetime.now(UTC).date(), model="gpt-x", cost_micros=2**63 - 10))
    db.commit()
    response = _call("POST", "/api/v1/usage", token, {"records": [_record("bigger")]})
    assert response.status_code == 422 and "would overflow" in response.json()["fields"]["records"]
    db.expire_all()
    assert db.exec(select(func.count()).select_from(UsageRecord)).one() == 0
