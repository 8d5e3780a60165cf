"""HTTP routes outside Reflex's event socket, mounted through rx.App(api_transformer=...)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from portal.api.brand_assets import brand_asset
from portal.api.health import health
from portal.api.stripe_webhook import stripe_webhook
from portal.api.usage import get_budget, post_usage


def build_api() -> Starlette:
    return Starlette(routes=[
        Route("/api/health", health, methods=["GET"]),
        Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
        Route("/api/v1/usage", post_usage, methods=["POST"]),
        Route("/api/v1/budget", get_budget, methods=["GET"]),
        Route("/api/brand-assets/{name}", brand_asset, methods=["GET"]),
    ])
