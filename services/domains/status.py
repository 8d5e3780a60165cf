"""How a claimed domain's status reads to its owner, and when the records to create are worth showing."""

from __future__ import annotations

from services.models import DomainStatus

LABELS = {
    DomainStatus.WAITING_DNS: "Waiting for DNS",
    DomainStatus.WRONG_RECORDS: "DNS records need a change",
    DomainStatus.VERIFIED: "Verified",
    DomainStatus.CERTIFICATE: "Certificate issued",
    DomainStatus.SERVING: "Serving",
    DomainStatus.FAILING: "Verification failing",
    DomainStatus.FAILED: "Not serving",
}


def needs_records(status: str) -> bool:
    """The records stay on the page until the domain serves, and come back when it stops proving."""
    return status in (DomainStatus.WAITING_DNS, DomainStatus.WRONG_RECORDS, DomainStatus.FAILING, DomainStatus.FAILED)
