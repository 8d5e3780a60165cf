"""Where a webhook may go: never to this machine, its private networks or a cloud's metadata address, unless
WEBHOOKS_ALLOW_PRIVATE says so (tests deliver to loopback). Checked when an endpoint is saved and again at every
delivery, by resolving the name then and connecting to exactly the address that was checked (a name that resolves
elsewhere a second later changes nothing)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.config import get_settings

MAX_URL = 2000


class Refused(ValueError):
    """The target is not allowed; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    address: str  # the checked IP, connected to directly
    port: int
    scheme: str


def parse(url: str) -> tuple[str, str, int]:
    url = url.strip()
    if len(url) > MAX_URL:
        raise Refused(f"the URL is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. "http://[" (an unclosed IPv6 address)
        raise Refused(f"the URL cannot be read: {exc}") from exc
    if parts.scheme not in ("https", "http"):
        raise Refused("the URL must start with https:// (or http://)")
    if not hostname or parts.username or parts.password:
        raise Refused("the URL must name a host, without a user or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("the URL's port is not a number between 1 and 65535") from exc
    return parts.scheme, hostname.lower(), port


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if get_settings().webhooks_allow_private:
        return True
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> Target:
    """The URL's host resolved now, every address checked; refused when any of them is not allowed."""
    scheme, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise Refused(f"{host} does not resolve")
    blocked = [a for a in addresses if not _allowed(a)]
    if blocked:
        raise Refused(f"{host} resolves to a private or local address ({', '.join(blocked)}); not allowed")
    return Target(url=url.strip(), host=host, address=addresses[0], port=port, scheme=scheme)
