"""Who is calling (their token, resolved on every call), per-token rate limits, and Idempotency-Key for POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from services import ratelimit
from services.api.tokens import ApiCaller, resolve_api_token
from services.config import get_settings
from services.db import session_scope
from services.models import IdempotencyRecord

MAX_KEY = 255


def caller(authorization: Annotated[str | None, Header()] = None) -> ApiCaller:
    """The token's caller (401 otherwise), counted against the token's rate limit (429 beyond)."""
    with session_scope() as session:
        found = resolve_api_token(session, authorization)
    if found is None:
        raise HTTPException(401, "Missing or invalid API token", headers={"WWW-Authenticate": "Bearer"})
    ratelimit.hit(get_settings().api_rate_per_token, f"api-token:{found.token_id}")
    return found


Caller = Annotated[ApiCaller, Depends(caller)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def idempotent(
    request: Request, who: ApiCaller, key: str | None, run: Callable[[], tuple[int, Any]]
) -> JSONResponse:
    """Run a POST once per (token, Idempotency-Key): a retry with the same key and request gets the first answer;
    the same key with another request is refused; without a key it simply runs."""
    from starlette.concurrency import run_in_threadpool

    if key is None:
        status, body = await run_in_threadpool(run)
        return JSONResponse(body, status_code=status)
    if not key or len(key) > MAX_KEY:
        raise HTTPException(422, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    raw = await request.body()
    digest = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + raw).hexdigest()
    return await run_in_threadpool(_once, who.token_id, key, digest, run)


def _once(token_id: int, key: str, digest: str, run: Callable[[], tuple[int, Any]]) -> JSONResponse:
    with session_scope() as session:
        earlier = session.exec(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.token_id) == token_id, col(IdempotencyRecord.key) == key
            )
        ).first()
        if earlier is None:
            session.add(IdempotencyRecord(token_id=token_id, key=key, request_hash=digest, status_code=0, body=""))
            try:
                session.commit()  # the key is taken before the work starts: a concurrent retry finds it
            except IntegrityError:
                session.rollback()
                raise HTTPException(409, "A request with this Idempotency-Key is still being answered") from None
        elif earlier.request_hash != digest:
            raise HTTPException(422, "This Idempotency-Key was used with a different request")
        elif earlier.status_code == 0:
            raise HTTPException(409, "A request with this Idempotency-Key is still being answered")
        else:
            return JSONResponse(
                json.loads(earlier.body), status_code=earlier.status_code, headers={"Idempotent-Replayed": "true"}
            )
    try:
        status, body = run()
    except Exception:
        _forget(token_id, key)  # a refused or failed request may be tried again with the same key
        raise
    with session_scope() as session:
        record = session.exec(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.token_id) == token_id, col(IdempotencyRecord.key) == key
            )
        ).one()
        record.status_code, record.body = status, json.dumps(body)
        session.add(record)
    return JSONResponse(body, status_code=status)


def _forget(token_id: int, key: str) -> None:
    with session_scope() as session:
        for record in session.exec(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.token_id) == token_id, col(IdempotencyRecord.key) == key
            )
        ).all():
            session.delete(record)
