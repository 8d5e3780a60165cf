"""The engine's tests drive actions on an in-memory backend and see what the engine scheduled; the Coolify tests
drive them against the fake Coolify (tests/support/coolify_fake.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from services.provisioning import engine
from services.provisioning.backends import register
from tests.support.coolify_driver import Coolify
from tests.support.coolify_fake import running_fake
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


@pytest.fixture()
def coolify(db: Session, settings_env: SettingsEnv) -> Iterator[Coolify]:
    with running_fake() as (fake, url):
        for name, value in {
            "COOLIFY_URL": url,
            "COOLIFY_TOKEN": fake.token,
            "COOLIFY_PROJECT_UUID": "proj-1",
            "COOLIFY_SERVER_UUID": "srv-1",
            "COOLIFY_PRIVATE_KEY_UUID": "key-1",
            "COOLIFY_POLL_SECONDS": "0.08",
            "COOLIFY_POLL_MAX_SECONDS": "0.2",
            "COOLIFY_REQUESTS_PER_MINUTE": "100000",  # the budget has tests of its own (test_coolify_limits.py)
            "COOLIFY_RETRY_BASE_SECONDS": "0.01",
            "COOLIFY_TIMEOUT_SECONDS": "2",
            "PROXY_BACKEND": "none",
            "INSTANCE_SCHEME": "https",
            "PROVISION_RETRY_BASE_SECONDS": "0.01",
        }.items():
            settings_env.setenv(name, value)
        engine.set_scheduler(lambda _action_id, _delay: None)
        yield Coolify(fake, url, db)
        engine.set_scheduler(None)
