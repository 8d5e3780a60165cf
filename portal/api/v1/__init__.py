"""The platform API, /api/v1 (FastAPI): everything the console does, scriptable, for tokens with scopes.

OpenAPI 3.1 at /api/v1/openapi.json, readable docs at /api/v1/docs. The instances' own usage routes
(/api/v1/usage, /api/v1/budget, portal/api/usage.py) are answered before this app and take instance tokens.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from portal.api.v1 import docs, problems, routes, routes_webhooks

DESCRIPTION = (
    "Authenticate with `Authorization: Bearer pat_...`, a token created in the console or on the account page, "
    "limited to its scopes and to what its creator's role may do. Lists are paged with `next_cursor`; POSTs take "
    "an `Idempotency-Key` (a retry with the same key gets the first answer); errors are `application/problem+json` "
    "naming the field; each token may make a limited number of calls a minute (429 with Retry-After beyond)."
)


def build_v1() -> FastAPI:
    app = FastAPI(
        title="Platform API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        servers=[{"url": "/api/v1"}],
    )
    problems.install(app)
    app.include_router(routes.router)
    app.include_router(routes_webhooks.router)

    @app.get("/docs", include_in_schema=False)
    def _docs() -> HTMLResponse:
        return HTMLResponse(docs.render(app.openapi()))

    return app
