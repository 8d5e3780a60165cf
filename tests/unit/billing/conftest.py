"""Billing tests: Stripe keys pointing at the fake API server, events signed with a known secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from services.provisioning import engine
from tests.support.billing import SECRET, Billing, production_app
from tests.support.env import SettingsEnv
from tests.support.stripe_support import fake_stripe_server


@pytest.fixture()
def billing(db: Session, settings_env: SettingsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Billing]:
    with fake_stripe_server() as fake:
        settings_env.setenv("STRIPE_SECRET_KEY", "sk_test_123")
        settings_env.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
        settings_env.setenv("STRIPE_API_BASE", fake.url)
        settings_env.setenv("PROXY_BACKEND", "none")
        settings_env.setenv("PROVISION_PREWARM", "false")  # counted actions are the lifecycle's own; see test_prewarm
        captured: list[tuple[str, float]] = []
        engine.set_scheduler(lambda action_id, delay: captured.append((action_id, delay)))
        reached: list[str] = []
        try:
            yield Billing(
                stripe=fake,
                client=TestClient(production_app(monkeypatch, reached)),
                provisioning=captured,
                reached_reflex_top=reached,
            )
        finally:
            engine.set_scheduler(None)
