"""POST /api/stripe/webhook."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.billing.webhook import receive


async def stripe_webhook(request: Request) -> JSONResponse:
    raw = await request.body()  # the raw bytes: re-serialised JSON would not match the signature
    result = await run_in_threadpool(receive, raw, request.headers.get("stripe-signature"))
    return JSONResponse(result.body, status_code=result.status_code)
