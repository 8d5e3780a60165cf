"""The webhook route on PostgreSQL: in-loop group commit, duplicates answered once, handling queued, 500 on failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import stripe
from sqlalchemy import text
from sqlmodel import Session, SQLModel, create_engine, select

from services.billing.event_store_async import AsyncEventStore
from services.models import StripeEvent
from tests.support.asgi import api_client, run_in_own_loop
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env

SECRET = "whsec_pg_store_test"


@pytest.fixture()
def pg_url(settings_env: SettingsEnv) -> Iterator[str]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        settings_env.setenv("DATABASE_URL", url)
        settings_env.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
        yield url


def _body(event_id: str) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.updated",
            "created": 1,
            "data": {"object": {"id": "cus_unknown", "object": "customer"}},
        }
    )


async def _post_all(bodies: list[str]) -> list[httpx.Response]:
    async with api_client() as client:
        return await asyncio.gather(
            *[
                client.post(
                    "/api/stripe/webhook",
                    content=body,
                    headers={"stripe-signature": stripe.WebhookSignature.generate_signature_header(body, SECRET)},
                )
                for body in bodies
            ]
        )


def test_concurrent_deliveries_store_each_event_once_and_queue_its_handling(pg_url: str) -> None:
    bodies = [_body(f"evt_pg_{n}") for n in range(40)]
    bodies += bodies[:10] + bodies[:5]  # duplicates arriving in the same bursts
    responses = run_in_own_loop(_post_all(bodies))

    assert [r.status_code for r in responses] == [200] * len(bodies)
    assert sum(1 for r in responses if r.json().get("duplicate")) == 15
    with Session(create_engine(pg_url)) as session:
        rows = session.exec(select(StripeEvent)).all()
    assert len(rows) == 40
    assert {r.payload["id"] for r in rows} == {f"evt_pg_{n}" for n in range(40)}
    # queued before the acknowledgement (the test queue runs jobs inline): every event was handled once
    assert {(r.status, r.attempts) for r in rows} == {("ignored", 1)}


def test_a_database_that_is_down_answers_500_and_acknowledges_nothing(settings_env: SettingsEnv) -> None:
    settings_env.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    settings_env.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    responses = run_in_own_loop(_post_all([_body("evt_lost_1"), _body("evt_lost_2")]))
    assert [r.status_code for r in responses] == [500, 500]
    assert "retry" in responses[0].json()["error"]


def test_the_store_recovers_after_a_failed_batch(pg_url: str) -> None:
    async def scenario() -> tuple[bool, bool]:
        store = AsyncEventStore(pg_url)
        good = store._conninfo
        store._conninfo = "postgresql://nobody@127.0.0.1:1/none"
        with pytest.raises(Exception):
            await store.submit(json.loads(_body("evt_retry")), _body("evt_retry"))
        store._conninfo = good
        first = await store.submit(json.loads(_body("evt_retry")), _body("evt_retry"))
        again = await store.submit(json.loads(_body("evt_retry")), _body("evt_retry"))
        return first, again

    assert run_in_own_loop(scenario()) == (True, False)


def test_the_synchronous_store_keeps_the_body_as_received_on_postgres(pg_url: str) -> None:
    """`receive()` (callers without an event loop) goes through the writer thread; its batch insert binds the
    verified body as text into the json column."""
    from services.billing.webhook import receive

    body = _body("evt_pg_sync").replace(", ", ",  ")  # spacing json.dumps would not produce
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    assert (receive(body.encode(), header).body, receive(body.encode(), header).body) == (
        {"received": True},
        {"received": True, "duplicate": True},
    )
    with Session(create_engine(pg_url)) as session:
        row = session.exec(select(StripeEvent)).one()
        stored_text = session.exec(text("SELECT payload::text FROM stripe_event")).one()[0]  # type: ignore[call-overload]
    assert row.payload["id"] == "evt_pg_sync" and row.received_at is not None and row.status == "ignored"
    assert stored_text == body


def test_a_payload_with_every_awkward_character_is_stored_exactly_as_received(pg_url: str) -> None:
    """The arrays go to PostgreSQL in binary: what array text would have to escape arrives unchanged."""
    body = json.dumps(
        {
            "id": "evt_pg_awkward",
            "object": "event",
            "type": "customer.updated",
            "created": 1,
            "data": {"object": {"id": "cus_x", "name": 'Ölçü "quoted", {braced} \\back\\ NULL \u2603 \n tab\t'}},
        },
        ensure_ascii=False,
    )
    responses = run_in_own_loop(_post_all([body]))
    assert [r.status_code for r in responses] == [200]
    with create_engine(pg_url).connect() as connection:
        stored = connection.execute(
            text("SELECT payload::text FROM stripe_event WHERE stripe_id = 'evt_pg_awkward'")
        ).scalar_one()
    assert stored == body
