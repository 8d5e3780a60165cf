"""Errors as `application/problem+json` (RFC 9457), each naming the field it is about; no error is a 500 page."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.access import MissingScope, NotFound
from services.errors import RateLimited, ValidationFailed

log = logging.getLogger(__name__)
MEDIA = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body["errors"] = errors or []
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers or None)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description, "content": {MEDIA: {}}}
    for status, description in (
        (400, "The request is malformed"),
        (401, "Missing, unknown, revoked or expired token"),
        (403, "The token lacks the scope"),
        (404, "Not there, or not yours"),
        (409, "The same Idempotency-Key is still being answered"),
        (422, "A field is wrong; `errors` names it"),
        (429, "Too many calls for this token; see Retry-After"),
    )
}


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in exc.errors()]
        return problem(422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)

    @app.exception_handler(ValidationFailed)
    async def _refused(_request: Request, exc: ValidationFailed) -> JSONResponse:
        errors = [{"field": f or "body", "message": m} for f, m in exc.errors.items()]
        return problem(422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(MissingScope)
    async def _scope(_request: Request, exc: MissingScope) -> JSONResponse:
        return problem(403, "Missing scope", str(exc))

    @app.exception_handler(PermissionError)
    async def _forbidden(_request: Request, exc: PermissionError) -> JSONResponse:
        return problem(403, "Forbidden", str(exc))

    @app.exception_handler(RateLimited)
    async def _limited(_request: Request, exc: RateLimited) -> JSONResponse:
        return problem(429, "Too many requests", str(exc), headers={"Retry-After": str(exc.retry_after_seconds)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) or "Error", str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in the API", exc_info=exc)
        return problem(500, "Something went wrong on our side", "Nothing was changed; please try again shortly.")
