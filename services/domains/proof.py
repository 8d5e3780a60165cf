"""What DNS says about a claimed domain: is it the claimant's (TXT), does it point at us (CNAME or A/AAAA), and may
the edge's CA issue for it (CAA)? Pure lookups through dnspython, each answer turned into words its owner can act on.

The ownership record is `_portal-challenge.<domain> TXT "portal-verify=<token>"` (services/dns_proof.py, the same
proof the sellers' sender domains use). The routing record is a CNAME to the target the portal names (the
instance's own host, or EDGE_HOSTNAME for a seller's portal domain) or A/AAAA records with the target's own
addresses (or EDGE_IPS), which is what an apex domain can have.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from services import dns_proof
from services.config import get_settings

LETS_ENCRYPT = "letsencrypt.org"


@dataclass(frozen=True)
class Record:
    """A DNS record the owner must create, as the page shows it."""

    type: str
    name: str
    value: str


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str
    waiting: bool = True  # not there yet (keep checking) rather than wrong (say what to fix)


def records(hostname: str, token: str, target: str) -> list[Record]:
    """The records to create: ownership first, then routing (a CNAME, or A records for an apex domain)."""
    proof = dns_proof.challenge(hostname, token)
    shown = [Record("TXT", proof.name, proof.value), Record("CNAME", hostname, target)]
    shown += [Record("A" if ":" not in ip else "AAAA", hostname, ip) for ip in edge_ips()]
    return shown


def edge_ips() -> list[str]:
    return [ip.strip() for ip in get_settings().edge_ips.split(",") if ip.strip()]


def _addresses(name: str) -> tuple[set[str], str | None]:
    """The A and AAAA addresses `name` resolves to (following CNAMEs), and the first CNAME target if any."""
    resolver = dns_proof.resolver()
    found: set[str] = set()
    alias: str | None = None
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(name, rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        found |= {record.to_text() for record in answer}
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.CNAME and alias is None:
                alias = rrset[0].target.to_text().rstrip(".").lower()
    return found, alias


def ownership(hostname: str, token: str) -> Finding:
    ok, why = dns_proof.proven(hostname, token)
    if ok:
        return Finding(True, "")
    wrong = "does not hold" in why
    return Finding(False, f"Ownership: {why}.", waiting=not wrong)


def routing(hostname: str, target: str) -> Finding:
    """Does `hostname` lead to the edge: a CNAME to `target`, or exactly addresses of the target / EDGE_IPS?"""
    try:
        found, alias = _addresses(hostname)
        wanted, _ = _addresses(target)
    except dns.exception.DNSException as exc:
        return Finding(False, f"DNS could not be asked right now ({type(exc).__name__}); checking again soon.")
    wanted |= set(edge_ips())
    if alias == target.lower():
        return Finding(True, "")
    if not found:
        return Finding(False, f"Routing: {hostname} has no CNAME or A record yet; point it at {target}.")
    if wanted and found <= wanted:
        return Finding(True, "")
    shown = f"CNAME {alias}" if alias else ", ".join(sorted(found))
    return Finding(
        False,
        f"Routing: {hostname} points at {shown}, not at {target}"
        + (f" ({', '.join(sorted(wanted))})" if wanted else "")
        + ". Change the record to a CNAME to "
        + target
        + ".",
        waiting=False,
    )


def caa_identity() -> str | None:
    """The CAA issuer domain of the edge's certificate authority, or None when no public CA is used."""
    settings = get_settings()
    if settings.edge_tls_mode != "acme":
        return None
    if settings.acme_caa_identity:
        return settings.acme_caa_identity.lower()
    host = (urlsplit(settings.acme_ca).hostname or "").lower()
    return LETS_ENCRYPT if "letsencrypt" in host else host


def certificate_authority(hostname: str) -> Finding:
    """RFC 8659: the closest CAA record set at or above the name decides; when it has `issue` tags, one of them
    must name our CA, else the CA refuses to issue and the domain could never serve over HTTPS."""
    identity = caa_identity()
    if identity is None:
        return Finding(True, "")
    resolver = dns_proof.resolver()
    name = dns.name.from_text(hostname)
    while name != dns.name.root and len(name.labels) > 1:
        try:
            answer = resolver.resolve(name, "CAA")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            name = name.parent()
            continue
        except dns.exception.DNSException as exc:
            return Finding(False, f"DNS could not be asked right now ({type(exc).__name__}); checking again soon.")
        issuers = [
            record.value.decode("utf-8", "replace").split(";")[0].strip().lower()
            for record in answer
            if record.tag.decode("ascii", "replace").lower() == "issue"
        ]
        if issuers and identity not in issuers:
            where = name.to_text().rstrip(".")
            return Finding(
                False,
                f"Certificate: the CAA records of {where} allow only {', '.join(issuers)}; add "
                f'"0 issue \\"{identity}\\"" so a certificate can be issued.',
                waiting=False,
            )
        return Finding(True, "")
    return Finding(True, "")


def prove(hostname: str, token: str, target: str) -> Finding:
    """Ownership, then routing, then the CA: the first that fails says what to do."""
    for finding in (ownership(hostname, token), routing(hostname, target), certificate_authority(hostname)):
        if not finding.ok:
            return finding
    return Finding(True, "")
