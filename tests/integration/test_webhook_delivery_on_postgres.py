"""Webhook deliveries taken by several workers at once on PostgreSQL: each is sent once, none is left behind
(the claim's row locks and lease are what keep two consumers from sending the same delivery)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from services.models import Organization, WebhookAttempt, WebhookDelivery, WebhookEvent
from services.webhooks import delivery, endpoints
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env
from tests.support.receiver import Receiver, receiver

EVENTS = 60
ENDPOINTS = 3
WORKERS = 4


@pytest.fixture()
def pg(settings_env: SettingsEnv) -> Iterator[Session]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        settings_env.setenv("DATABASE_URL", url)
        settings_env.setenv("WEBHOOKS_ALLOW_PRIVATE", "1")  # the receivers are on loopback
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
        engine.dispose()


def _events(pg: Session, receivers: list[Receiver]) -> list[int]:
    org = Organization(name="Seller", slug="seller", kind="reseller")
    pg.add(org)
    pg.commit()
    for hooks in receivers:
        _, secret = endpoints.create(
            pg,
            org.id,
            url=hooks.url,
            event_types=["customer.created"],
            user_id=None,  # type: ignore[arg-type]
            audit_fields={"actor_label": "test"},
        )
        hooks.secrets.append(secret)
    events = [
        WebhookEvent(
            msg_id=f"msg_{uuid.uuid4().hex}",
            organization_id=org.id,  # type: ignore[arg-type]
            type="customer.created",
            payload={"type": "customer.created", "timestamp": "2026-12-06T00:00:00", "data": {"n": n}},
        )
        for n in range(EVENTS)
    ]
    pg.add_all(events)
    pg.commit()
    return [e.id for e in events]  # type: ignore[misc]


def test_four_workers_pumping_at_once_send_every_delivery_exactly_once(
    pg: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "BATCH", 7)  # small batches, so the workers take turns and contend
    with receiver() as one, receiver() as two, receiver() as three:
        receivers = [one, two, three]
        event_ids = _events(pg, receivers)
        first = event_ids[0]
        assert len(delivery.fan_out(first)) == ENDPOINTS
        assert delivery.fan_out(first) == []  # a second fan-out (a retried job) makes nothing twice
        start = threading.Barrier(WORKERS)

        def work() -> None:  # as fan_out_event does in each consumer: the waiting events, then what is due
            start.wait()
            delivery.fan_out_pending(limit=5)
            while delivery.pump(rounds=1) or delivery.fan_out_pending(limit=5):
                pass

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for hooks in receivers:
            ids = [r["id"] for r in hooks.received]
            assert hooks.rejected == [] and len(ids) == EVENTS and len(set(ids)) == EVENTS
    rows = pg.exec(select(WebhookDelivery)).all()
    assert len(rows) == EVENTS * ENDPOINTS and {r.status for r in rows} == {"succeeded"}
    assert len(pg.exec(select(WebhookAttempt)).all()) == EVENTS * ENDPOINTS  # one attempt each
