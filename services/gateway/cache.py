"""Where the gateway's hook reads each key's rules: Redis when the portal has one, else a folder of small files.

One record per key hash, JSON, written whole (a reader never sees half a record). The layout is the contract
with services/gateway/litellm_hooks/policy_cache.py, which reads it inside LiteLLM's process."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import redis

from services.config import get_settings
from services.gateway.policy import KeyPolicy


class PolicyCache(Protocol):
    def write(self, policies: Mapping[str, KeyPolicy]) -> None: ...
    def forget(self, hashes: Iterable[str]) -> None: ...
    def hashes(self) -> set[str]: ...
    def read(self, token_hash: str) -> dict[str, Any] | None: ...


class RedisPolicyCache:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix

    def _key(self, token_hash: str) -> str:
        return f"{self.prefix}{token_hash}"

    def write(self, policies: Mapping[str, KeyPolicy]) -> None:
        if policies:
            self.client.mset({self._key(h): json.dumps(p.to_dict()) for h, p in policies.items()})

    def forget(self, hashes: Iterable[str]) -> None:
        keys = [self._key(h) for h in hashes]
        if keys:
            self.client.delete(*keys)

    def hashes(self) -> set[str]:
        return {k.decode()[len(self.prefix) :] for k in self.client.scan_iter(match=f"{self.prefix}*", count=1000)}

    def read(self, token_hash: str) -> dict[str, Any] | None:
        raw = self.client.get(self._key(token_hash))
        return _parsed(raw) if isinstance(raw, bytes | str) else None


class FolderPolicyCache:
    """For a portal without Redis: one file per key, replaced atomically (rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, policies: Mapping[str, KeyPolicy]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for token_hash, policy in policies.items():
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "w") as out:
                json.dump(policy.to_dict(), out)
            os.replace(temporary, self.folder / f"{token_hash}.json")

    def forget(self, hashes: Iterable[str]) -> None:
        for token_hash in hashes:
            (self.folder / f"{token_hash}.json").unlink(missing_ok=True)

    def hashes(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*.json")} if self.folder.is_dir() else set()

    def read(self, token_hash: str) -> dict[str, Any] | None:
        try:
            return _parsed((self.folder / f"{token_hash}.json").read_text())
        except FileNotFoundError:
            return None


def _parsed(raw: bytes | str) -> dict[str, Any] | None:
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


def cache_location() -> dict[str, str]:
    """What the gateway's hook needs to find the same cache (passed to LiteLLM's process as environment)."""
    settings = get_settings()
    if settings.redis_url:
        return {"PORTAL_GATEWAY_REDIS_URL": settings.redis_url, "PORTAL_GATEWAY_PREFIX": redis_prefix()}
    return {"PORTAL_GATEWAY_CACHE_DIR": str(settings.var_dir / "gateway" / "keys")}


def redis_prefix() -> str:
    return f"{get_settings().jobs_queue_name}:gateway:key:"


def policy_cache() -> PolicyCache:
    settings = get_settings()
    if settings.redis_url:
        return RedisPolicyCache(settings.redis_url, redis_prefix())
    return FolderPolicyCache(settings.var_dir / "gateway" / "keys")
