"""Caddy's question before it obtains a certificate on demand: may this name have one?

Yes only for a name the portal serves: an existing instance's own host under BASE_DOMAIN, or a domain DNS has
proven (and not lost) for an instance or a seller's portal. Anything else, including a name someone has added
but not proven, a removed name and a name another account proved, is refused, so nobody can make the edge ask a
certificate authority for names they do not hold. One indexed lookup per question.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.models import Domain, Instance
from services.tenancy.hostnames import HOSTNAME, instance_label, normalise_host

GONE = ("deprovisioned",)


def may_have_certificate(session: Session, raw: str) -> bool:
    host = normalise_host(raw)
    if not host or len(host) > 253 or not HOSTNAME.match(host):
        return False
    label = instance_label(host)
    if label is not None:
        status = session.exec(select(col(Instance.status)).where(col(Instance.subdomain) == label)).first()
        return status is not None and status not in GONE
    proven = select(col(Domain.id)).where(col(Domain.hostname) == host, col(Domain.verified_at).is_not(None))
    return session.exec(proven).first() is not None
