"""Every HTTP request gets a request id (logged and echoed) and its time in the latency histogram; /metrics."""

from __future__ import annotations

import hmac
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.config import get_settings
from services.ops import logs, metrics


class Observed:
    """The outermost layer: request id in, request id out, one histogram observation per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = logs.new_request_id(offered)
        token = logs.bind_request_id(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.HTTP_SECONDS.labels(
                metrics.route_group(scope["path"]), scope["method"], f"{status // 100}xx"
            ).observe(time.perf_counter() - started)
            logs.reset_request_id(token)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus scrape. With METRICS_TOKEN set, only its bearer; without, nobody in production."""
    settings = get_settings()
    if settings.metrics_token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode()):
            return PlainTextResponse(
                "A valid metrics token is required.", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
    elif settings.environment == "production":
        return PlainTextResponse("Not Found", status_code=404)
    # the levels are read from the database: off the event loop, like every other route's waiting
    return Response(await run_in_threadpool(metrics.render), media_type=metrics.CONTENT_TYPE)
