"""Reads a key's rules where the portal writes them (services/gateway/cache.py): Redis, or a folder of files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis


class PolicyReader:
    def __init__(self, redis_url: str, prefix: str, cache_dir: str) -> None:
        self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=2) if redis_url else None
        self._prefix = prefix
        self._folder = Path(cache_dir) if cache_dir else None

    async def read(self, key_hash: str) -> dict[str, Any] | None:
        """The key's rules, or None for a key the portal does not know (or a record that does not parse)."""
        try:
            if self._redis is not None:
                raw = await self._redis.get(f"{self._prefix}{key_hash}")
            elif self._folder is not None:
                raw = (self._folder / f"{key_hash}.json").read_text()
            else:
                return None
            value = json.loads(raw) if raw else None
        except (FileNotFoundError, ValueError):
            return None
        return value if isinstance(value, dict) else None
