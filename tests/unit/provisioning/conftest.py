"""The engine's tests drive actions on an in-memory backend and see what the engine scheduled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from services.provisioning import engine
from services.provisioning.backends import register
from tests.support.env import SettingsEnv
from tests.support.memory_backend import MemoryBackend


@pytest.fixture()
def memory(db: Session, settings_env: SettingsEnv) -> Iterator[tuple[MemoryBackend, list[tuple[str, float]]]]:
    settings_env.setenv("PROXY_BACKEND", "none")
    settings_env.setenv("PROVISION_RETRY_BASE_SECONDS", "2")
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "3")
    backend = MemoryBackend()
    register("memory", lambda: backend)
    scheduled: list[tuple[str, float]] = []
    engine.set_scheduler(lambda action_id, delay: scheduled.append((action_id, delay)))
    yield backend, scheduled
    engine.set_scheduler(None)
