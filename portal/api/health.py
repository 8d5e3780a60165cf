"""GET /api/health: database, job queue and Redis, for load balancers and `portal-admin health`."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.health import check_all, recent_report


async def health(_request: Request) -> JSONResponse:
    """The checks wait on the database, the queue and Redis: in a worker thread, so the web process's event loop
    (every other request and every browser's websocket) never waits on them, nor they on it. An answer under a
    second old is sent again as it is (services/health.recent_report)."""
    report = recent_report()
    if report is None:
        report = await run_in_threadpool(check_all)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
