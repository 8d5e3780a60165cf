"""Billing tests: Stripe keys pointing at the fake API server, events signed with a known secret."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from portal.api import api_transformer
from services.provisioning import engine
from tests.conftest import SettingsEnv
from tests.stripe_support import FakeStripe, fake_stripe_server, sign

SECRET = "whsec_test_" + "0" * 24


async def reflex_stand_in(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Where the portal mounts Reflex: anything that reaches it answers 418, so a test sees it got there."""
    await send({"type": "http.response.start", "status": 418, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"reflex"})


@dataclass
class Billing:
    stripe: FakeStripe
    client: TestClient
    provisioning: list[tuple[str, float]] = field(default_factory=list)
    reached_reflex_top: list[str] = field(default_factory=list)

    def post(self, payload: str, signature: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if signature is not False:  # type: ignore[comparison-overlap]
            headers["Stripe-Signature"] = signature if signature is not None else sign(payload, SECRET)
        response = self.client.post("/api/stripe/webhook", content=payload.encode(), headers=headers)
        return response.status_code, response.json()


def production_app(monkeypatch: pytest.MonkeyPatch, reached_reflex_top: list[str]) -> ASGIApp:
    """What the production server (granian) gets from portal.portal's ASGI factory, with a stand-in, which notes
    each path it is asked for, where Reflex's own top-level app (its CORS, contexts, pages) would be."""
    import reflex as rx

    from portal.portal import app

    inner = api_transformer(reflex_stand_in)

    async def reflex_top(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            reached_reflex_top.append(scope["path"])
        await inner(scope, receive, send)

    monkeypatch.setattr(rx.App, "__call__", lambda self: reflex_top)
    return app()


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
            yield Billing(stripe=fake, client=TestClient(production_app(monkeypatch, reached)), provisioning=captured,
                          reached_reflex_top=reached)
        finally:
            engine.set_scheduler(None)
