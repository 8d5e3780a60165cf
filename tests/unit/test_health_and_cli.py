from __future__ import annotations

import subprocess
import sys

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


def test_portal_admin_help_and_usage_errors() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "services.cli", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "health" in ok.stdout and "seed" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "services.cli", "no-such-command"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2
