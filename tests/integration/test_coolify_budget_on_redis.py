"""The Coolify request budget on real Redis: two processes' stores (fresh connections, the same key) share one
budget, and a 429's pause reaches both."""

from __future__ import annotations

import uuid

import pytest

from services.provisioning.coolify.budget import RedisBudget
from tests.support.env import require_env

pytestmark = pytest.mark.redis


def test_two_stores_on_one_redis_share_the_budget_and_the_pause() -> None:
    url = require_env("PORTAL_TEST_REDIS_URL", "Redis")
    key = f"coolify:test-{uuid.uuid4().hex[:8]}"
    web, consumer = RedisBudget(key, 5, url), RedisBudget(key, 5, url)
    granted = [store.take() == 0 for store in (web, consumer, web, consumer, web, consumer, web)]
    assert granted.count(True) == 5 and granted[-2:] == [False, False]  # the sixth call of the minute waits
    assert 0 < consumer.take() <= 60

    other = RedisBudget(f"{key}-b", 100, url)
    other.pause(5)
    assert RedisBudget(f"{key}-b", 100, url).take() == pytest.approx(5, abs=0.5)
    web.redis.delete(*web.redis.keys(f"*{key}*"))
