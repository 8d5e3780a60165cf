"""The test run's environment: where the project is, real-component switches, settings changed per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services import ratelimit
from services.config import reset_settings_cache

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = Path(os.environ.get("PORTAL_SHARED_DIR") or PROJECT_ROOT.parent / "shared")  # ../shared beside the checkout
SPECS = SHARED / "specs"


def require_env(name: str, what: str) -> str:
    """Real-component tests: skipped with a reason on a bare machine, mandatory when CI sets PORTAL_REQUIRE_*."""
    value = os.environ.get(name, "")
    if value:
        return value
    if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
        pytest.fail(f"{name} is not set but PORTAL_REQUIRE_ALL=1: {what} tests are mandatory here")
    pytest.skip(f"{what} not available: set {name} to run this test")


def require_specs() -> Path:
    """The third-party contracts in ../shared/specs: a clean skip with the reason when they are not beside us."""
    if SPECS.is_dir():
        return SPECS
    if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
        pytest.fail(f"{SPECS} is missing but PORTAL_REQUIRE_ALL=1")
    pytest.skip(f"the third-party contracts are not here ({SPECS} is missing)")


class SettingsEnv:
    """Set environment variables for one test; settings are re-read after every change."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def setenv(self, name: str, value: str) -> None:
        self._monkeypatch.setenv(name, value)
        reset_settings_cache()
        ratelimit.reset_limiter()


@contextmanager
def patched_env(**values: str) -> Iterator[None]:
    """Set environment variables (and re-read settings) for a block, then restore them."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reset_settings_cache()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings_cache()


def drop_queue(redis_url: str, queue_name: str) -> None:
    """Remove a test's huey queue, schedule and results from a shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"huey.*{queue_name}*"):
        client.delete(key)
