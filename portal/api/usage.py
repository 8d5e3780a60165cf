"""The usage API for instances: POST /api/v1/usage (a batch of records) and GET /api/v1/budget.

Authenticated by the instance's own token only; the token decides which instance is meant, so no id in a request
can point at another customer's instance.
"""

from __future__ import annotations

import json
from decimal import Decimal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from portal.api.guards import BodyTooLarge, read_body, too_large
from services.db import session_scope
from services.errors import ValidationFailed
from services.keys.usage_tokens import resolve_instance_token
from services.usage.ingest import budget_status, ingest, parse_batch

MAX_BATCH_BYTES = 1024 * 1024  # 1,000 records of a few hundred bytes each
UNAUTHORISED = JSONResponse(
    {"error": "missing or invalid instance token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
)


def _post_usage(authorization: str | None, raw: bytes) -> tuple[int, dict]:
    try:
        body = json.loads(raw, parse_float=Decimal)  # amounts stay exact
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return 400, {"error": "body is not JSON"}
    with session_scope() as session:
        owner = resolve_instance_token(session, authorization)
        if owner is None:
            return 401, {}
        try:
            accepted, duplicates = ingest(session, owner.instance_id, parse_batch(body))
        except ValidationFailed as exc:
            session.rollback()
            return 422, {"error": "the batch was rejected; nothing was recorded", "fields": exc.errors}
        return 200, {
            "accepted": accepted,
            "duplicates": duplicates,
            "budget": budget_status(session, owner.instance_id),
        }


def _get_budget(authorization: str | None) -> tuple[int, dict]:
    with session_scope() as session:
        owner = resolve_instance_token(session, authorization)
        if owner is None:
            return 401, {}
        return 200, budget_status(session, owner.instance_id)


async def post_usage(request: Request) -> JSONResponse:
    try:
        raw = await read_body(request, MAX_BATCH_BYTES)
    except BodyTooLarge:
        return too_large(MAX_BATCH_BYTES)
    status, body = await run_in_threadpool(_post_usage, request.headers.get("authorization"), raw)
    return UNAUTHORISED if status == 401 else JSONResponse(body, status_code=status)


async def get_budget(request: Request) -> JSONResponse:
    status, body = await run_in_threadpool(_get_budget, request.headers.get("authorization"))
    return UNAUTHORISED if status == 401 else JSONResponse(body, status_code=status)
