"""The gateway hook's settings, from the environment the portal's launcher gives LiteLLM's process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HookSettings:
    portal_url: str  # where the usage callback reports (the portal's internal URL)
    secret: str  # the gateway's master key: the portal accepts usage reports signed with it
    redis_url: str  # the policy cache in Redis, or
    prefix: str
    cache_dir: str  # the policy cache as a folder of files (a portal without Redis)
    spool: Path  # usage not yet acknowledged by the portal survives a restart here
    flush_seconds: float

    @classmethod
    def from_env(cls) -> HookSettings:
        return cls(
            portal_url=os.environ.get("PORTAL_INTERNAL_URL", "http://127.0.0.1:3000").rstrip("/"),
            secret=os.environ.get("LITELLM_MASTER_KEY", ""),
            redis_url=os.environ.get("PORTAL_GATEWAY_REDIS_URL", ""),
            prefix=os.environ.get("PORTAL_GATEWAY_PREFIX", "portal:gateway:key:"),
            cache_dir=os.environ.get("PORTAL_GATEWAY_CACHE_DIR", ""),
            spool=Path(os.environ.get("PORTAL_GATEWAY_SPOOL", "gateway-spool.sqlite3")),
            flush_seconds=float(os.environ.get("PORTAL_GATEWAY_FLUSH_SECONDS", "0.5")),
        )
