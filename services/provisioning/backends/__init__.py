"""Backends by name; the app template of an instance names its backend."""

from __future__ import annotations

from collections.abc import Callable

from services.provisioning.backends.base import Backend
from services.provisioning.errors import PermanentError

_factories: dict[str, Callable[[], Backend]] = {}


def register(name: str, factory: Callable[[], Backend]) -> None:
    _factories[name] = factory


def get_backend(name: str) -> Backend:
    if name not in _factories:
        raise PermanentError(f"Unknown backend {name!r}; known: {', '.join(sorted(_factories))}")
    return _factories[name]()


def _docker() -> Backend:
    # imported on first use: the Docker SDK costs the web process ~0.1 s to load and most portals use one backend
    from services.provisioning.backends.docker import DockerBackend

    return DockerBackend()


def _coolify() -> Backend:
    # imported on first use, like the Docker backend: a portal without Coolify never loads its client
    from services.provisioning.backends.coolify import CoolifyBackend

    return CoolifyBackend()


register("docker", _docker)
register("coolify", _coolify)
