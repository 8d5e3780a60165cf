"""The Coolify request budget where it is shared in production: on real Redis (two processes' stores, fresh
connections, the same key, share one budget and a 429's pause), and in a real PostgreSQL database, where eight
threads drawing on one row at once never get more than the budget."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from services.provisioning.coolify import budget
from services.provisioning.coolify.budget import DatabaseBudget, RedisBudget
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env


@pytest.mark.redis
def test_two_stores_on_one_redis_share_the_budget_and_the_pause() -> None:
    url = require_env("PORTAL_TEST_REDIS_URL", "Redis")
    key = f"coolify:test-{uuid.uuid4().hex[:8]}"
    web, consumer = RedisBudget(key, 5, url), RedisBudget(key, 5, url)
    granted = [store.take() == 0 for store in (web, consumer, web, consumer, web, consumer, web)]
    assert granted.count(True) == 5 and granted[-2:] == [False, False]  # the sixth call of the minute waits
    assert 0 < consumer.take() <= 60

    other = RedisBudget(f"{key}-b", 100, url)
    paused_at = time.monotonic()
    other.pause(5)
    wait = RedisBudget(f"{key}-b", 100, url).take()  # another store sees the pause, less what has passed since
    elapsed = time.monotonic() - paused_at  # a busy machine (CI) can take half a second between the two calls
    assert 5 - elapsed - 0.2 <= wait <= 5
    web.redis.delete(*web.redis.keys(f"*{key}*"))


@pytest.fixture()
def on_postgres(settings_env: SettingsEnv) -> Iterator[str]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        settings_env.setenv("DATABASE_URL", url)
        yield url


@pytest.mark.postgres
def test_threads_drawing_on_one_postgres_row_never_get_more_than_the_budget(
    on_postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "WINDOW_SECONDS", 2.0)  # Coolify's minute, shortened for the test
    granted: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 5

    def consumer_thread() -> None:
        store = DatabaseBudget("coolify:pg", per_minute=20)
        while time.monotonic() < deadline:
            wait = store.take()
            if wait == 0:
                with lock:
                    granted.append(time.monotonic())
            else:
                time.sleep(min(wait, 0.05))

    threads = [threading.Thread(target=consumer_thread) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted.sort()
    first, peak = 0, 0
    for last, at in enumerate(granted):
        while at - granted[first] >= 2.0:
            first += 1
        peak = max(peak, last - first + 1)
    burst = budget.burst_for(20)
    assert peak <= 20, peak
    assert len(granted) >= burst + (20 - burst) / 2.0 * 4  # the burst, then the budget spread over the window
