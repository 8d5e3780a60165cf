"""What every edge implements, and the helpers they share.

Besides routing hosts to upstreams, an edge tells how an instance's link is written (`url_for`) and requests a
host the way customers arrive (`check`), so the URL the portal shows is the URL that serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Answer:
    """What a request through the edge met: a certificate (None where the edge has no TLS) and a status."""

    certificate: bool | None
    status: int | None
    error: str = ""


@dataclass(frozen=True)
class Route:
    """One instance at the edge: its own host first, then the custom domains its customer has proven."""

    instance_id: int
    subdomain: str
    hosts: tuple[str, ...]
    upstream: str


class Proxy(Protocol):
    name: str

    def publish(self, route: Route) -> bool:
        """Route the hosts to the upstream; True when the edge's configuration changed."""

    def unpublish(self, subdomain: str) -> bool: ...

    def regenerate(self, routes: Sequence[Route], portal_hosts: Sequence[str] = ()) -> int:
        """Replace every route with the database's truth (and the sellers' portal domains); returns the count."""

    def set_portal_hosts(self, hosts: Sequence[str]) -> bool:
        """The sellers' verified portal domains, served by the portal itself through the edge."""

    def address(self) -> str | None:
        """host:port where customers' requests arrive, or None when nothing stands in front."""

    def url_for(self, host: str) -> str:
        """The link to `host` as this edge serves it (scheme, and the port when it is not the scheme's own)."""

    def check(self, host: str, path: str) -> bool:
        """Request `path` on `host` through the edge as a customer would; True for an answer below 400."""

    def probe(self, host: str, path: str) -> Answer:
        """The same request, with what it met on the way (certificate, status, the error)."""


class NoProxy:
    """Nothing in front: instances are reached on their upstream address directly."""

    name = "none"

    def publish(self, route: Route) -> bool:
        return False

    def unpublish(self, subdomain: str) -> bool:
        return False

    def regenerate(self, routes: Sequence[Route], portal_hosts: Sequence[str] = ()) -> int:
        return 0

    def set_portal_hosts(self, hosts: Sequence[str]) -> bool:
        return False

    def address(self) -> str | None:
        return None

    def url_for(self, host: str) -> str:
        return f"https://{host}"

    def check(self, host: str, path: str) -> bool:
        return False

    def probe(self, host: str, path: str) -> Answer:
        return Answer(None, None, "no edge stands in front of instances (PROXY_BACKEND=none)")


def with_port(scheme: str, host: str, port: int) -> str:
    """`scheme://host`, with `:port` only when it is not the scheme's default."""
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (0, default) else f"{scheme}://{host}:{port}"


def listen_port(listen: str) -> int:
    """The port of a listen address such as `127.0.0.1:8443`, `:443` or `[::1]:8080`."""
    return int(listen.rsplit(":", 1)[1])


def connect_address(listen: str) -> str:
    """Where this machine reaches a listener: a wildcard address becomes loopback."""
    host, port = listen.rsplit(":", 1)
    if host in ("", "0.0.0.0", "[::]", "*"):
        host = "127.0.0.1"
    return f"{host}:{port}"
