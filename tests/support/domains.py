"""Claimed domains in tests that are not about DNS: what a successful check records (the checks themselves are
tested against a real DNS server in tests/integration/test_custom_domains.py)."""

from __future__ import annotations

from sqlmodel import Session, select

from services.models import Domain, DomainStatus
from services.models.base import utcnow


def prove(db: Session, hostname: str, domain_id: int | None = None) -> Domain:
    """The claim on `hostname` (that one, when several accounts claim it) proven, as a DNS check records it."""
    query = select(Domain).where(Domain.hostname == hostname)
    domain = db.exec(query.where(Domain.id == domain_id) if domain_id is not None else query).one()
    domain.verified_at, domain.status = utcnow(), DomainStatus.SERVING
    db.add(domain)
    db.commit()
    return domain
