"""GET /api/backups/download?token=...: one backup, streamed from the backup store as the customer's download.

The token is the link the dashboard made for one person and one backup (services/customer/backups.py), sealed with
the portal's key and valid five minutes; the person must still be an owner or admin of the instance's customer.
Streamed in chunks, so a large volume never sits in the web process's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from services.backups.store import StoreError, backup_store
from services.customer.backups import backup_for_link
from services.db import session_scope
from services.models import Backup

HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link is the capability: never sent on to another site
}


def _find(token: str) -> Backup | None:
    with session_scope() as session:
        backup = backup_for_link(session, token)
        if backup is not None:
            session.expunge(backup)
        return backup


async def download_backup(request: Request) -> Response:
    token = request.query_params.get("token", "")
    backup = await run_in_threadpool(_find, token[:1000]) if token else None
    if backup is None:
        return JSONResponse(
            {"error": "This download link is not valid or has expired. Make a new one on your dashboard."},
            status_code=404,
            headers=HEADERS,
        )
    chunks = backup_store().get(backup.object_key)
    try:
        first = await run_in_threadpool(next, chunks, b"")
    except StoreError:
        return JSONResponse({"error": "The backup is not in the store any more."}, status_code=410, headers=HEADERS)

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk

    name = f"backup-{backup.created_at:%Y%m%d-%H%M}-{backup.id}.tar.zst"
    return StreamingResponse(
        body(),
        media_type="application/zstd",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(backup.size_bytes),
        },
    )
