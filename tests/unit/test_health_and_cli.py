from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.api import build_api
from services.db import dispose_engines
from tests.support.env import PROJECT_ROOT, SettingsEnv


def test_health_is_200_with_each_check_when_all_is_well(db: Session) -> None:
    response = TestClient(build_api()).get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True and body["checks"]["database"]["backend"] == "sqlite"
    assert body["checks"]["queue"]["ok"] is True
    assert "redis" not in body["checks"]


def test_health_is_503_and_names_the_broken_part(settings_env: SettingsEnv) -> None:
    settings_env.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    settings_env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    try:
        response = TestClient(build_api()).get("/api/health")
    finally:
        dispose_engines()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False and "error" in checks["database"]
    assert checks["redis"]["ok"] is False


def test_a_health_answer_is_reused_for_a_second_then_checked_again(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load balancers poll several times a second: within a second they get the same answer without a new round
    of checks (no hop to a worker thread); after it, the checks run again and see what changed."""
    import time

    from services import health

    client = TestClient(build_api())
    calls: list[int] = []
    real = health.check_all
    route = importlib.import_module("portal.api.health")
    monkeypatch.setattr(route, "check_all", lambda: calls.append(1) or real())
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health").status_code == 200
    assert len(calls) == 1
    now = time.monotonic() + health.REPORT_REUSE_SECONDS + 0.1
    monkeypatch.setattr(health.time, "monotonic", lambda: now)
    assert client.get("/api/health").status_code == 200
    assert len(calls) == 2


def test_portal_admin_servers_add_list_drain_remove(db: Session) -> None:
    from services.cli import main

    assert main(["servers", "add", "edge-2", "unix:///run/edge-2.sock", "--memory-mb", "2048", "--region", "eu-1"]) == 0
    assert main(["servers", "add", "edge-2", "unix:///run/other.sock"]) == 2  # a taken name changes nothing
    assert main(["servers", "add", "bad name", "unix:///run/x.sock"]) == 2
    assert main(["servers", "add", "edge-3", "http://not-an-engine"]) == 2
    assert main(["servers", "drain", "edge-2"]) == 0
    assert main(["servers", "remove", "edge-2"]) == 0  # empty: it may go
    assert main(["servers", "remove", "edge-2"]) == 1


def test_portal_admin_help_and_usage_errors() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "services.cli", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "health" in ok.stdout and "seed" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "services.cli", "no-such-command"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2


def test_the_queue_is_asked_at_most_once_a_second_and_the_database_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Load balancers poll often; the queue's answer (huey's one connection per process, busy during a burst of
    jobs) is reused for a second, while the database is asked at every call."""
    from services import health as health_checks

    calls = {"queue": 0, "database": 0}
    now = [100.0]

    def queue() -> dict[str, object]:
        calls["queue"] += 1
        return {"ok": True, "consumer_alive": True}

    def database() -> dict[str, object]:
        calls["database"] += 1
        return {"ok": True}

    monkeypatch.setattr(health_checks, "_check_queue", queue)
    monkeypatch.setattr(health_checks, "_check_database", database)
    monkeypatch.setattr(health_checks.time, "monotonic", lambda: now[0])
    health_checks.forget_cached_checks()
    for _ in range(5):
        assert health_checks.check_all()["status"] == "ok"
    assert calls == {"queue": 1, "database": 5}
    now[0] += 1.5
    health_checks.check_all()
    assert calls["queue"] == 2  # a second later it is asked again
