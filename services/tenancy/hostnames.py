"""Who may answer on which host name: the portal, the platform's instance domain, sellers' domains, instances.

Every host belongs to exactly one of them. A seller can never claim the portal's own host, anything under the
platform's BASE_DOMAIN (where instances live), another organization's domain or an instance's address; a
username (which becomes `<username>.<BASE_DOMAIN>`) can never be a host a portal domain already answers on.
These rules hold for every seller, whether or not it has a licence; the licence only narrows them further.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import Domain, Instance, Organization, User

HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")


def normalise_host(raw: str | None) -> str:
    return (raw or "").strip().lower().rstrip(".").split(":")[0]


def portal_host() -> str:
    return normalise_host(urlsplit(get_settings().public_url).hostname)


def base_domain() -> str:
    return normalise_host(get_settings().base_domain)


def under_base_domain(host: str) -> bool:
    base = base_domain()
    return host == base or host.endswith("." + base)


def instance_label(host: str) -> str | None:
    """The subdomain an instance at `host` would have (`name` for name.BASE_DOMAIN), else None."""
    base = base_domain()
    label = host[: -len(base) - 1] if host.endswith("." + base) else ""
    return label if label and "." not in label else None


def _label_taken(session: Session, label: str) -> bool:
    for column in (col(User.username), col(Organization.slug), col(Instance.subdomain)):
        if session.exec(select(column).where(column == label).limit(1)).first() is not None:
            return True
    return False


def domain_problem(session: Session, raw: str, *, platform_staff: bool) -> tuple[str, str | None]:
    """(normalised host, why it cannot be a seller's portal domain or None)."""
    host = normalise_host(raw)
    if not HOSTNAME.match(host):
        return host, "must be a host name such as portal.example.com"
    if host == portal_host():
        return host, f"{host} is the portal's own address."
    if under_base_domain(host):
        if not platform_staff:
            return host, f"{host} is under {base_domain()}, where the platform's instances live."
        label = instance_label(host)
        if host == base_domain() or label is None or _label_taken(session, label):
            return host, f"{host} is (or could become) a customer's instance address."
    if host.endswith(".localhost") and get_settings().environment == "production":
        return host, f"{host} only ever reaches the machine it is typed on; it cannot be proven or served."
    proven = select(col(Domain.id)).where(col(Domain.hostname) == host, col(Domain.verified_at).is_not(None))
    if session.exec(proven).first() is not None:
        return host, f"{host} is already in use."  # an unproven claim blocks nobody: the first proof wins
    return host, None


def username_is_a_portal_host(session: Session, username: str) -> bool:
    """Would `<username>.<BASE_DOMAIN>` be a host that already answers as a portal (a seller's or ours)?"""
    host = f"{username}.{base_domain()}"
    return (
        host == portal_host()
        or session.exec(select(col(Domain.id)).where(col(Domain.hostname) == host)).first() is not None
    )
