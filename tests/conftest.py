"""Test environment: every test run gets its own var/ directory, SQLite database and inline job queue.

The environment is set before any `services` module is imported, because settings and the huey instance are
built at import time exactly as in production.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

_RUN_DIR = Path(tempfile.mkdtemp(prefix="portal-tests-"))
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(_RUN_DIR / "var"),
        "DATABASE_URL": f"sqlite:///{_RUN_DIR / 'unit.db'}",
        "JOBS_IMMEDIATE": "true",
        "PUBLIC_URL": "http://portal.test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
)
for _name in ("REDIS_URL", "SMTP_URL", "STRIPE_SECRET_KEY", "COOLIFY_URL"):
    os.environ.pop(_name, None)

from sqlmodel import Session, SQLModel  # noqa: E402

from services import ratelimit  # noqa: E402
from services.config import get_settings, reset_settings_cache  # noqa: E402
from services.db import get_engine  # noqa: E402
from services.models import metadata  # noqa: E402,F401  (registers every table)
from services.worker import huey  # noqa: E402,F401  (every domain's tasks on the queue, as in the app)
from tests.support.env import SettingsEnv  # noqa: E402

if TYPE_CHECKING:
    from tests.support.docker_env import Dockerd


@pytest.fixture()
def db() -> Iterator[Session]:
    """A clean schema for each test; the session commits like the app's session_scope does."""
    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    ratelimit.reset_limiter()
    yield
    ratelimit.reset_limiter()


@pytest.fixture()
def outbox() -> Iterator[Path]:
    """The .eml outbox of this run, emptied before the test."""
    path = get_settings().outbox_dir
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    for item in path.glob("*.eml"):
        item.unlink()
    yield path


@pytest.fixture()
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SettingsEnv]:
    reset_settings_cache()
    yield SettingsEnv(monkeypatch)
    monkeypatch.undo()
    reset_settings_cache()


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Dockerd]:
    """Our own Docker engine for the whole session (started on first use; skipped or failed without one)."""
    from tests.support.docker_env import build_test_image, start_dockerd

    daemon = start_dockerd()
    try:
        client = daemon.client()
        build_test_image(client)
        client.close()
        yield daemon
    finally:
        daemon.cleanup()


@pytest.fixture()
def scheduled_actions() -> Iterator[list[tuple[str, float]]]:
    """Provisioning actions are recorded instead of run: the test sees what was asked for and drives the rest."""
    from services.provisioning import engine

    captured: list[tuple[str, float]] = []
    engine.set_scheduler(lambda action_id, delay: captured.append((action_id, delay)))
    try:
        yield captured
    finally:
        engine.set_scheduler(None)


@pytest.fixture()
def tree(db: Session) -> Iterator[dict[str, object]]:
    """Two resellers (one with a sub-reseller), their staff and customers (tests/support/tenants.py)."""
    from tests.support.tenants import build_tree

    yield from build_tree(db)
