"""Reverse proxy in front of instances whose backend gives the portal a host:port (the Docker backend)."""

from __future__ import annotations

import shutil
from typing import Protocol

from services.config import get_settings
from services.provisioning.proxy.nginx import NginxProxy


class Proxy(Protocol):
    def publish(self, instance_id: int, subdomain: str, domain: str, upstream: str) -> bool: ...

    def unpublish(self, subdomain: str) -> bool: ...

    def regenerate(self, routes: list[tuple[int, str, str, str]]) -> int: ...

    def address(self) -> str | None:
        """host:port where customers' requests arrive, or None when nothing stands in front."""


class NoProxy:
    """Nothing in front: instances are reached on their upstream address directly."""

    def publish(self, instance_id: int, subdomain: str, domain: str, upstream: str) -> bool:
        return False

    def unpublish(self, subdomain: str) -> bool:
        return False

    def regenerate(self, routes: list[tuple[int, str, str, str]]) -> int:
        return 0

    def address(self) -> str | None:
        return None


def get_proxy() -> Proxy:
    settings = get_settings()
    choice = settings.proxy_backend
    if choice == "auto":
        choice = "nginx" if shutil.which(settings.nginx_bin) else "none"
    if choice == "nginx":
        return NginxProxy()
    return NoProxy()
