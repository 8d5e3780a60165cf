"""GET /api/health: database, job queue and Redis, for load balancers and `portal-admin health`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from services.health import check_all


async def health(_request: Request) -> JSONResponse:
    report = check_all()
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
