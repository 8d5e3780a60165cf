"""Billing tests: Stripe keys pointing at the fake API server, events signed with a known secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from services.billing import local
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


@pytest.fixture()
def webhook_route(
    db: Session, settings_env: SettingsEnv, monkeypatch: pytest.MonkeyPatch, scheduled_actions: list
) -> Iterator[list[int]]:
    """No Stripe keys; what the Pay button posts to INTERNAL_URL reaches the production app's webhook route."""
    settings_env.setenv("PROXY_BACKEND", "none")
    settings_env.setenv("PROVISION_PREWARM", "false")
    client = TestClient(production_app(monkeypatch, []))
    answers: list[int] = []

    def post(url: str, **kwargs: Any) -> httpx.Response:
        path = urlsplit(url).path
        response = client.post(path, content=kwargs["content"], headers=kwargs["headers"])
        answers.append(response.status_code)
        return response

    monkeypatch.setattr(local.httpx, "post", post)
    yield answers
