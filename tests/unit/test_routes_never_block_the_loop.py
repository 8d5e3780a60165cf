"""Routes that wait on the database, the queue or Redis do it in a worker thread: while one waits, the web
process's event loop (every other request, every browser's websocket) keeps answering."""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import pytest

from portal.api import build_api
from services.ops import metrics


def slow(seconds: float, result: object) -> object:
    def wait(*_args: object) -> object:
        time.sleep(seconds)  # a database that takes its time, as blocking I/O does
        return result

    return wait


@pytest.mark.parametrize("path", ["/api/health", "/metrics"])
def test_a_slow_check_does_not_hold_up_other_requests(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    health_module = sys.modules["portal.api.health"]  # the package's `health` name is the route function
    monkeypatch.setattr(health_module, "check_all", slow(0.6, {"status": "ok", "checks": {}}))
    monkeypatch.setattr(metrics, "render", slow(0.6, b""))

    async def race() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=build_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            started = time.perf_counter()

            async def other() -> float:
                await asyncio.sleep(0.05)  # the slow request is already waiting
                await client.get("/api/brand-assets/none.png")
                return time.perf_counter() - started

            slow_request = asyncio.create_task(client.get(path))
            quick = await other()
            await slow_request
            return quick, time.perf_counter() - started

    quick, whole = asyncio.run(race())
    assert whole >= 0.6
    assert quick < 0.4, f"another request waited {quick:.2f} s behind {path}"
