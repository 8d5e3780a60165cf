"""HTTP routes outside Reflex's event socket, mounted through rx.App(api_transformer=...)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.api.backups import download_backup
from portal.api.brand_assets import brand_asset
from portal.api.edge import edge_ask
from portal.api.gateway import gateway_usage
from portal.api.health import health
from portal.api.local_invoices import local_invoice_page
from portal.api.observe import metrics_endpoint
from portal.api.stripe_webhook import stripe_webhook
from portal.api.usage import get_budget, post_usage
from portal.api.v1 import build_v1

STRIPE_WEBHOOK_PATH = "/api/stripe/webhook"


def build_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route(STRIPE_WEBHOOK_PATH, stripe_webhook, methods=["POST"]),
            Route("/api/v1/usage", post_usage, methods=["POST"]),
            Route("/api/v1/budget", get_budget, methods=["GET"]),
            Route("/api/brand-assets/{name}", brand_asset, methods=["GET"]),
            Route("/api/edge/ask", edge_ask, methods=["GET"]),
            Route("/api/gateway/usage", gateway_usage, methods=["POST"]),
            Route("/api/billing/local-invoices/{invoice}", local_invoice_page, methods=["GET"]),
            Route("/api/backups/download", download_backup, methods=["GET"]),
            Mount("/api/v1", build_v1()),  # after the instances' own /api/v1/usage and /api/v1/budget
        ]
    )


class WebhookFastPath:
    """Stripe's deliveries and the load balancers' health checks go straight to their handlers; everything else
    goes through the routes and Reflex.

    Under a burst every millisecond of a delivery is spent with fifty others waiting, and the layers in front of
    it (Reflex's top-level app with its CORS, context and error middleware, the mount, our router) cost about as
    much as verifying and storing the event. Stripe calls server to server, so it needs none of them; neither does
    a load balancer asking /api/health several times a second, whose answer must stay quick while the machine is
    busy provisioning (issue: production, health p99 during a crowd).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = _DIRECT.get(scope["path"]) if scope["type"] == "http" else None
        if direct is None:
            await self.app(scope, receive, send)
            return
        method, handler = direct
        response: Response
        if scope["method"] != method and not (method == "GET" and scope["method"] == "HEAD"):
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": method})
        else:
            response = await handler(Request(scope, receive))
        await response(scope, receive, send)


_DIRECT = {STRIPE_WEBHOOK_PATH: ("POST", stripe_webhook), "/api/health": ("GET", health)}


def api_transformer(reflex_app: ASGIApp) -> ASGIApp:
    """For rx.App(api_transformer=...): our routes first, then Reflex."""
    routes = build_api()
    routes.mount("", reflex_app)
    return routes
