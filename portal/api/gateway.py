"""POST /api/gateway/usage: the AI gateway's callback reports each request's cost (issue: AI gateway).

Only the gateway may call it: it signs with the gateway's master key (AI_GATEWAY_MASTER_KEY), compared in
constant time. Without a configured gateway the route does not exist for anyone (404)."""

from __future__ import annotations

import hmac
import json
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from portal.api.guards import BodyTooLarge, read_body, too_large
from services.config import get_settings
from services.db import session_scope
from services.errors import ValidationFailed
from services.gateway.sync import push_instances
from services.usage.gateway_usage import ingest_gateway_batch

MAX_BATCH_BYTES = 1024 * 1024


def _authorised(authorization: str | None) -> bool:
    settings = get_settings()
    secret = settings.ai_gateway_master_key
    if not settings.ai_gateway_url or not secret or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[len("Bearer ") :].strip().encode(), secret.encode())


def _ingest(raw: bytes) -> tuple[int, dict[str, Any]]:
    """Store the batch, then write the affected keys' rules and answer with their versions (see
    services/gateway/litellm_hooks/spool.py: the gateway stops adding this usage itself from those versions on)."""
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        return 400, {"error": "body is not JSON"}
    with session_scope() as session:
        try:
            answer = ingest_gateway_batch(session, body)
        except ValidationFailed as exc:
            session.rollback()
            return 422, {"error": "the batch was rejected; nothing was recorded", "fields": exc.errors}
    answer["rules"] = push_instances(set(answer.pop("instances")))
    return 200, answer


async def gateway_usage(request: Request) -> JSONResponse:
    if not get_settings().ai_gateway_url:
        return JSONResponse({"error": "not found"}, status_code=404)
    if not _authorised(request.headers.get("authorization")):
        return JSONResponse({"error": "not the gateway"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    try:
        raw = await read_body(request, MAX_BATCH_BYTES)
    except BodyTooLarge:
        return too_large(MAX_BATCH_BYTES)
    status, body = await run_in_threadpool(_ingest, raw)
    return JSONResponse(body, status_code=status)
