"""Health of the parts the portal cannot work without. Each check is short and never raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import text

from services.config import get_settings
from services.db import get_engine
from services.gateway.health import check_gateway
from services.jobs.heartbeat import last_heartbeat
from services.jobs.queue import huey, storage_kind
from services.provisioning.coolify.client import CoolifyClient

HEARTBEAT_STALE_SECONDS = 180


def _probe(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one check: any failure is a health answer (ok: false and why), never a crash of the health route."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - whatever broke is reported, not raised
        return {"ok": False, "error": type(exc).__name__ + ": " + (str(exc).splitlines() or [""])[0][:200]}


def _check_database() -> dict[str, Any]:
    started = time.perf_counter()
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"ok": True, "backend": get_engine().dialect.name, "ms": round((time.perf_counter() - started) * 1000, 1)}


QUEUE_CHECK_SECONDS = 1.0
_queue_cache: list[tuple[float, dict[str, Any]]] = []


def _check_queue_cached() -> dict[str, Any]:
    """The queue's state at most a second old. Asking it means huey's one storage connection per process, which
    the web process's own enqueues hold while they wait for the queue's write lock (SQLite) during a burst; the
    consumer's heartbeat moves once a minute, so a second-old answer says the same, and load balancers polling
    /api/health several times a second no longer queue up behind a burst of jobs."""
    now = time.monotonic()
    if _queue_cache and now - _queue_cache[0][0] < QUEUE_CHECK_SECONDS:
        return dict(_queue_cache[0][1])
    result = _probe(_check_queue)
    _queue_cache[:] = [(now, result)]
    return dict(result)


def forget_cached_checks() -> None:
    """Drop the cached answers (tests that change the queue's or the database's state between two calls)."""
    _queue_cache.clear()
    _report_cache.clear()


REPORT_REUSE_SECONDS = 1.0
_report_cache: list[tuple[float, dict[str, Any]]] = []


def recent_report() -> dict[str, Any] | None:
    """The last report if it is under a second old. Load balancers ask several times a second, each answer is
    the same within a second, and while the machine is busy (a crowd provisioning on two cores) every hop to a
    worker thread and back waits its turn for the CPU: a reused answer is sent without one (GET /api/health)."""
    if _report_cache and time.monotonic() - _report_cache[0][0] < REPORT_REUSE_SECONDS:
        return _report_cache[0][1]
    return None


def _check_queue() -> dict[str, Any]:
    pending = huey.pending_count()
    beat = last_heartbeat()
    age = None if beat is None else round(time.time() - beat, 1)
    return {
        "ok": True,
        "storage": storage_kind(),
        "pending": pending,
        "consumer_seen_seconds_ago": age,
        "consumer_alive": age is not None and age < HEARTBEAT_STALE_SECONDS,
    }


def _check_redis(url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return {"ok": True}


COOLIFY_CHECK_SECONDS = 60
_coolify_cache: dict[str, Any] = {}


def check_coolify(*, fresh: bool = False) -> dict[str, Any] | None:
    """Coolify's health and version (None when not configured). Cached for a minute: load balancers poll
    /api/health often, and Coolify counts every API call against a 200-per-minute limit."""
    settings = get_settings()
    if not settings.coolify_url:
        return None
    cached = _coolify_cache.get(settings.coolify_url)
    if cached and not fresh and time.monotonic() - cached[0] < COOLIFY_CHECK_SECONDS:
        return dict(cached[1])
    url = settings.coolify_url

    def ask() -> dict[str, Any]:
        client = CoolifyClient(url, settings.coolify_token or "", timeout=5.0, max_retries=0)
        try:
            healthy = client.healthy()
            return {"ok": healthy, "url": url, "version": client.version() if healthy else None}
        finally:
            client.close()

    result = {"url": url, **_probe(ask)}
    _coolify_cache[settings.coolify_url] = (time.monotonic(), result)
    return dict(result)


def check_all() -> dict[str, Any]:
    checks: dict[str, Any] = {"database": _probe(_check_database), "queue": _check_queue_cached()}
    redis_url = get_settings().redis_url
    if redis_url:
        checks["redis"] = _probe(lambda: _check_redis(redis_url))
    status = "ok" if all(c["ok"] for c in checks.values()) else "error"
    report: dict[str, Any] = {"status": status, "checks": checks}
    coolify = check_coolify()
    if coolify is not None:  # reported, but the portal itself still serves when Coolify is down
        report.setdefault("integrations", {})["coolify"] = coolify
    gateway = check_gateway()
    if gateway is not None:  # likewise: instances cannot spend, but the portal serves
        report.setdefault("integrations", {})["ai_gateway"] = gateway
    _report_cache[:] = [(time.monotonic(), report)]
    return report
