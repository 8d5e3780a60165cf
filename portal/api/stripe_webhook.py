"""POST /api/stripe/webhook."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from portal.api.guards import BodyTooLarge, read_body, too_large
from services.billing.event_store_async import store_event
from services.billing.webhook import WebhookResult, acknowledgement, verify
from services.config import get_settings
from services.ops import metrics

STORE_TIMEOUT_SECONDS = 20
MAX_EVENT_BYTES = 1024 * 1024  # Stripe's events are a few KB; the largest carry lists of 100 items


async def stripe_webhook(request: Request) -> JSONResponse:
    """200 only once the event is committed; a storage failure answers 500 so that Stripe delivers it again."""
    try:
        raw = await read_body(request, MAX_EVENT_BYTES)  # the raw bytes: re-serialised JSON would not match
    except BodyTooLarge:
        return too_large(MAX_EVENT_BYTES)
    verified = verify(raw, request.headers.get("stripe-signature"))
    if isinstance(verified, WebhookResult):
        metrics.WEBHOOK_DELIVERIES.labels("rejected").inc()
        return JSONResponse(verified.body, status_code=verified.status_code)
    try:
        async with asyncio.timeout(STORE_TIMEOUT_SECONDS):  # unlike wait_for, no extra task per request
            is_new = await store_event(verified, raw.decode(), get_settings().database_url)
    except Exception:  # noqa: BLE001 - logged by the store; Stripe retries a 500
        metrics.WEBHOOK_DELIVERIES.labels("error").inc()
        return JSONResponse({"error": "could not store the event, please retry"}, status_code=500)
    metrics.WEBHOOK_DELIVERIES.labels("new" if is_new else "duplicate").inc()
    result = acknowledgement(is_new)
    return JSONResponse(result.body, status_code=result.status_code)
