"""Every HTTP route answers garbage with a clear 4xx and stores nothing: generated bodies, headers and records
thrown at the usage API, the budget API and the Stripe webhook (hypothesis), plus the named nasty cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from portal.api import WebhookFastPath, api_transformer
from services.keys.usage_tokens import issue_instance_token
from services.models import Budget, StripeEvent, UsageDaily, UsageRecord
from tests.support.asgi import run_in_own_loop
from tests.support.billing import reflex_stand_in
from tests.support.factories import customer_instance

NOW = datetime.now(UTC).isoformat()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
# values each of which makes a record invalid, whatever the rest of it holds
BAD_FIELD = st.sampled_from(
    [
        ("tokens_in", 2**63),
        ("tokens_in", 10**40),
        ("tokens_out", -1),
        ("tokens_in", True),
        ("tokens_in", 1.5),
        ("cost", "-0"),
        ("cost", -0.0),
        ("cost", "1e999999"),
        ("cost", "NaN"),
        ("cost", "Infinity"),
        ("cost", "1" * 5000),
        ("cost", "0.0000001"),
        ("cost", None),
        ("cost", [1]),
        ("cost", {"a": 1}),
        ("occurred_at", "0001-01-01T00:00:00+14:00"),
        ("occurred_at", "9999-12-31T23:59:59-14:00"),
        ("occurred_at", "1900-01-01T00:00:00+00:00"),
        ("occurred_at", "2999-01-01T00:00:00+00:00"),
        ("occurred_at", "2026-13-45T99:00:00Z"),
        ("occurred_at", 12345),
        ("occurred_at", "x" * 10_000),
        ("id", ""),
        ("id", "x" * 101),
        ("id", 7),
        ("model", ""),
        ("model", "m" * 101),
        ("model", None),
    ]
)


@pytest.fixture()
def api(db: Session) -> Iterator[tuple[TestClient, str]]:
    instance = customer_instance(db, "target")
    db.add(Budget(subscription_id=instance.subscription_id, total_micros=10_000_000, used_micros=0))  # type: ignore[arg-type]
    token = issue_instance_token(db, instance)
    db.commit()
    yield TestClient(WebhookFastPath(api_transformer(reflex_stand_in)), raise_server_exceptions=False), token


def _stored(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return (
        db.exec(select(func.count()).select_from(UsageRecord)).one(),
        db.exec(select(func.count()).select_from(UsageDaily)).one(),
        db.exec(select(func.count()).select_from(StripeEvent)).one(),
        db.exec(select(func.sum(Budget.used_micros))).one() or 0,
    )


def _record(**overrides: object) -> dict[str, object]:
    return {
        "id": "r1",
        "model": "gpt-x",
        "tokens_in": 1,
        "tokens_out": 1,
        "cost": "0.01",
        "occurred_at": NOW,
        **overrides,
    }


GARBAGE_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@GARBAGE_SETTINGS
@given(
    body=JSON_VALUES,
    raw=st.binary(max_size=200),
    use_raw=st.booleans(),
    authorised=st.booleans(),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-7"]),
)
def test_garbage_bodies_get_a_4xx_and_store_nothing(
    db: Session,
    api: tuple[TestClient, str],
    body: object,
    raw: bytes,
    use_raw: bool,
    authorised: bool,
    content_type: str,
) -> None:
    client, token = api
    before = _stored(db)
    content = raw if use_raw else json.dumps(body).encode()
    headers = {
        "Content-Type": content_type,
        "Authorization": f"Bearer {token}" if authorised else "Bearer pit_x",
        "Stripe-Signature": "t=1,v1=" + "0" * 64,
    }
    for method, path in (("POST", "/api/v1/usage"), ("POST", "/api/stripe/webhook"), ("GET", "/api/v1/budget")):
        response = client.request(method, path, content=content if method == "POST" else None, headers=headers)
        assert response.status_code < 500, (path, response.text)
        if path != "/api/v1/budget":
            assert 400 <= response.status_code < 500, (path, response.text)
    assert _stored(db) == before


@GARBAGE_SETTINGS
@given(bad=BAD_FIELD, position=st.integers(0, 2))
def test_a_batch_with_one_bad_record_is_refused_whole_and_stores_nothing(
    db: Session, api: tuple[TestClient, str], bad: tuple[str, object], position: int
) -> None:
    client, token = api
    before = _stored(db)
    records: list[dict[str, object]] = [_record(id=f"ok{i}") for i in range(3)]
    records[position] = {**_record(id=f"bad{position}"), bad[0]: bad[1]}
    response = client.post(
        "/api/v1/usage", content=json.dumps({"records": records}), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["fields"]
    assert _stored(db) == before


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,  # nested deeper than any parser's stack
        b'{"records": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b"\xff\xfe\x00garbage",
        b'{"records": [' + b'{"id": "a"},' * 2000 + b'{"id": "b"}]}',  # too many records
    ],
)
def test_named_nasty_bodies_are_refused_plainly(db: Session, api: tuple[TestClient, str], body: bytes) -> None:
    client, token = api
    for path in ("/api/v1/usage", "/api/stripe/webhook"):
        response = client.post(
            path, content=body, headers={"Authorization": f"Bearer {token}", "Stripe-Signature": "t=1,v1=abc"}
        )
        assert 400 <= response.status_code < 500, (path, response.status_code)
    assert _stored(db) == (0, 0, 0, 0)


def test_a_huge_body_is_refused_while_streaming_not_after(db: Session, api: tuple[TestClient, str]) -> None:
    """No Content-Length, 64 MB offered in 1 MB chunks: the route stops asking for more at the cap."""
    _client, token = api
    app = WebhookFastPath(api_transformer(reflex_stand_in))

    async def post(path: str) -> tuple[int, int]:
        asked, sent = 0, []

        async def receive() -> dict[str, object]:
            nonlocal asked
            asked += 1
            return {"type": "http.request", "body": b" " * (1024 * 1024), "more_body": asked < 64}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("portal.test", 80),
            "client": ("127.0.0.1", 1),
            "root_path": "",
        }
        await app(scope, receive, send)
        return sent[0], asked

    for path in ("/api/v1/usage", "/api/stripe/webhook"):
        status, asked = run_in_own_loop(post(path))
        assert status == 413 and asked <= 2, (path, status, asked)
    announced = TestClient(app).post("/api/v1/usage", content=b"x", headers={"Content-Length": str(10**9)})
    assert announced.status_code == 413
