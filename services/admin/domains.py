"""A seller's own portal domains, from the console: add (within the licence), see each one's status and the
records to create, check now, remove. A domain carries the seller's brand only once DNS proves it
(services/domains/checks.py); the host rules of services/tenancy/hostnames.py hold for every seller.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from services import audit
from services.domains import claims
from services.errors import ValidationFailed
from services.i18n.message import say
from services.models import Domain, Organization, OrgKind
from services.tenancy.licences import active_licence, require_feature
from services.tenancy.scope import Actor, authorise


def add_domain(
    session: Session, actor: Actor | None, organization_id: int, hostname: str, *, ip: str = ""
) -> claims.DomainView:
    """A seller's own portal domain: never the portal's host, the instances' domain, an instance or a name
    somebody has proven; served in the seller's brand once DNS proves it."""
    org = session.get(Organization, organization_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="domains.add",
        target=("organization", organization_id),
        organization_id=organization_id if org and org.kind != OrgKind.CUSTOMER else -1,
    )
    assert org is not None
    host, problem = claims.host_problem(session, hostname, organization_id, platform_staff=checked.is_platform)
    if problem:
        raise ValidationFailed.single("hostname", problem)
    if not checked.is_platform:  # platform staff grant domains outside any licence; sellers stay within theirs
        require_feature(session, organization_id, "custom_domains", "hostname")
        licence = active_licence(session, organization_id)
        if (
            licence is not None
            and licence.authorized_domains
            and not any(host == d or host.endswith("." + d) for d in licence.authorized_domains)
        ):
            raise ValidationFailed.single("hostname", say("Your licence does not cover {host}.", host=host))
        count = session.exec(
            select(func.count())
            .select_from(Domain)
            .where(col(Domain.organization_id) == organization_id, col(Domain.instance_id).is_(None))
        ).one()
        if licence is not None and licence.max_domains is not None and count >= licence.max_domains:
            raise ValidationFailed.single(
                "hostname", say("Your licence allows {domains} domain(s).", domains=licence.max_domains)
            )
    domain = claims.new_claim(session, organization_id, host, None)
    audit.record(
        session,
        "domains.add",
        **checked.audit_fields(),
        target=("organization", organization_id),
        organization_id=organization_id,
        ip=ip,
        details={"hostname": host},
    )
    return claims.view_of(session, domain)


def _seller_domain(session: Session, actor: Actor | None, domain_id: int, action: str) -> tuple[Domain, Actor]:
    domain = session.get(Domain, domain_id)
    owner = domain.organization_id if domain is not None and domain.instance_id is None else -1
    checked = authorise(session, actor, "manage", action=action, target=("domain", domain_id), organization_id=owner)
    assert domain is not None
    return domain, checked


def remove_domain(session: Session, actor: Actor | None, domain_id: int, *, ip: str = "") -> str:
    domain, checked = _seller_domain(session, actor, domain_id, "domains.remove")
    return claims.forget(session, domain, checked.audit_fields(), ip)


def check_domain_now(session: Session, actor: Actor | None, domain_id: int) -> None:
    domain, _checked = _seller_domain(session, actor, domain_id, "domains.check")
    claims.schedule_now(session, domain)


def domains_of(session: Session, actor: Actor | None, organization_id: int) -> list[dict[str, object]]:
    authorise(
        session,
        actor,
        "view",
        action="domains.list",
        target=("organization", organization_id),
        organization_id=organization_id,
    )
    rows = session.exec(
        select(Domain)
        .where(col(Domain.organization_id) == organization_id, col(Domain.instance_id).is_(None))
        .order_by(col(Domain.hostname))
    ).all()
    return [claims.view_of(session, row).to_dict() for row in rows]
