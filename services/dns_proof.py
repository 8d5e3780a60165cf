"""Proof that someone controls a domain: a TXT record with a token the portal chose, looked up in DNS.

Used before the portal sends e-mail From a seller's own address (and the same proof serves any other
"this domain is mine" claim). The record lives at `_portal-challenge.<domain>`; the lookup goes to DNS_RESOLVER
when set (tests run a real dnsmasq on a loopback port), else to the system's resolver, and never takes long.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.resolver

from services.config import get_settings

RECORD_PREFIX = "_portal-challenge"
TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Challenge:
    name: str
    value: str


def challenge(domain: str, token: str) -> Challenge:
    return Challenge(name=f"{RECORD_PREFIX}.{domain}", value=f"portal-verify={token}")


def resolver() -> dns.resolver.Resolver:
    configured = get_settings().dns_resolver.strip()
    if not configured:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = configured.rpartition(":") if configured.count(":") == 1 else (configured, "", "")
        resolver.nameservers = [host or configured]
        if port:
            resolver.port = int(port)
    resolver.lifetime = resolver.timeout = TIMEOUT_SECONDS
    return resolver


def proven(domain: str, token: str) -> tuple[bool, str]:
    """(True, "") when the challenge record is published, else (False, what was found instead)."""
    wanted = challenge(domain, token)
    try:
        answer = resolver().resolve(wanted.name, "TXT")
    except dns.resolver.NXDOMAIN:
        return False, f"there is no TXT record at {wanted.name} yet"
    except dns.resolver.NoAnswer:
        return False, f"{wanted.name} has no TXT record yet"
    except dns.exception.DNSException as exc:
        return False, f"DNS could not be asked right now ({type(exc).__name__}); try again in a moment"
    values = {b"".join(record.strings).decode("utf-8", "replace") for record in answer}
    if wanted.value in values:
        return True, ""
    return False, f"the TXT record at {wanted.name} does not hold {wanted.value!r}"
