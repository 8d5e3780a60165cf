"""The client's address behind a configured number of trusted reverse proxies (TRUSTED_PROXY_HOPS).

The same rule Reflex applies to its event socket (rxconfig passes it the same setting), for our own HTTP
routes: X-Forwarded-For is the client's own claim except for the hops our proxies appended.
"""

from __future__ import annotations

from services.config import get_settings


def client_ip(peer: str, forwarded_for: str | None, hops: int | None = None) -> str:
    hops = get_settings().trusted_proxy_hops if hops is None else hops
    if hops <= 0 or not forwarded_for:
        return peer
    addresses = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    return addresses[-hops] if len(addresses) >= hops else peer
