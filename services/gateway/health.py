"""The AI gateway's liveness, for /api/health, the console and the minute's watch (services/gateway/tasks.py)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.config import get_settings

GATEWAY_CHECK_SECONDS = 10
_gateway_cache: dict[str, Any] = {}


def check_gateway(*, fresh: bool = False) -> dict[str, Any] | None:
    """The AI gateway's liveness (None when not configured); cached briefly, as load balancers poll /api/health."""
    url = get_settings().ai_gateway_url
    if not url:
        return None
    cached = _gateway_cache.get(url)
    if cached and not fresh and time.monotonic() - cached[0] < GATEWAY_CHECK_SECONDS:
        return dict(cached[1])

    def ask() -> dict[str, Any]:
        answer = httpx.get(f"{url.rstrip('/')}/health/liveliness", timeout=3)
        return {"ok": answer.status_code == 200, **({} if answer.status_code == 200 else {"error": answer.text[:200]})}

    try:
        result = {"url": url, **ask()}
    except httpx.HTTPError as exc:
        result = {"url": url, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    _gateway_cache[url] = (time.monotonic(), result)
    return dict(result)
