"""Fixtures every test can use: a clean database, the outbox, settings overrides, our own Docker engine.

The environment itself (var/, SQLite file, inline queue) is set by tests/support/environment.py, which pytest
loads as a plugin before this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, SQLModel

from services import ratelimit
from services.config import get_settings, reset_settings_cache
from services.db import get_engine
from tests.support.env import SettingsEnv

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
    from services import health

    ratelimit.reset_limiter()
    health.forget_cached_checks()
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


@pytest.fixture(autouse=True)
def domain_jobs() -> Iterator[list[tuple[str, object]]]:
    """Domain checks and edge refreshes are recorded instead of run (a check asks DNS): tests that want a check
    call services.domains.checks.check themselves, against the DNS server they run."""
    from services.domains import queue

    captured: list[tuple[str, object]] = []
    saved = (queue._Jobs.check, queue._Jobs.refresh)
    queue.use_queue(lambda d: captured.append(("check", d)), lambda i, o: captured.append(("refresh", (i, o))))
    try:
        yield captured
    finally:
        queue._Jobs.check, queue._Jobs.refresh = saved


@pytest.fixture()
def tree(db: Session) -> Iterator[dict[str, object]]:
    """Two resellers (one with a sub-reseller), their staff and customers (tests/support/tenants.py)."""
    from tests.support.tenants import build_tree

    yield from build_tree(db)
