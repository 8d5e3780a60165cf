"""GET /api/edge/ask?domain=<name>: Caddy's question before it obtains a certificate on demand.

200 only for names the portal serves (services/domains/ask.py); 404 for everything else, 400 for a request
without a name. Caddy calls it from the edge; it reads one indexed row and says nothing about whose name it is.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from services.db import session_scope
from services.domains.ask import may_have_certificate

MAX_NAME = 253


def _answer(name: str) -> bool:
    with session_scope() as session:
        return may_have_certificate(session, name)


async def edge_ask(request: Request) -> PlainTextResponse:
    name = request.query_params.get("domain", "")
    if not name or len(name) > MAX_NAME:
        return PlainTextResponse("a domain name is required", status_code=400)
    if await asyncio.to_thread(_answer, name):
        return PlainTextResponse("yes")
    return PlainTextResponse("no certificate for this name", status_code=404)
