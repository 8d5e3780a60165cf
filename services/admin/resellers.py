"""Reseller onboarding from the console: platform staff create a reseller, a reseller creates sub-resellers
within its own licence, and each new seller's owner lands in a console that says what to set up next.

A new seller is an organization, a licence (a sub-reseller's can only narrow its parent's: fewer features, lower
limits), a starting brand, and an invitation to its owner, who joins by accepting it as themselves (the platform's
invitations: nobody is pulled into a tree). The slug shares the namespace of usernames and subdomains.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from services import audit
from services.accounts.invitations import offer
from services.accounts.usernames import normalise, username_problem
from services.admin.branding import validate as validate_brand
from services.admin.licences import LicenceForm
from services.billing.connect import account_of
from services.errors import ValidationFailed
from services.forms import parse
from services.i18n.catalog import N_
from services.models import Branding, Domain, Invitation, Licence, Membership, Organization, OrgKind, Plan, Role
from services.models.base import key
from services.tenancy.licences import active_licence
from services.tenancy.scope import Actor, authorise

CHILD_KIND = {OrgKind.PLATFORM: OrgKind.RESELLER, OrgKind.RESELLER: OrgKind.SUB_RESELLER}
LIMITS = ("max_customers", "max_instances", "max_domains")


class SellerForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: str = Field(min_length=1, max_length=200, json_schema_extra={"message": "is required (at most 200)"})
    slug: str = Field(min_length=1, max_length=63)
    owner_email: str = Field(min_length=3, max_length=254, json_schema_extra={"message": "is required"})


def create_seller(session: Session, actor: Actor | None, values: dict[str, Any], *, ip: str = "") -> Organization:
    """A reseller under the platform, or a sub-reseller under a reseller: the actor's own organization is the
    parent, and only its owners and admins create one."""
    checked = authorise(
        session,
        actor,
        "manage",
        action="resellers.create",
        target=("organization", "new"),
        organization_id=actor.organization_id if actor else -1,
    )
    parent = session.get(Organization, checked.organization_id)
    assert parent is not None
    kind = CHILD_KIND.get(parent.kind)
    if kind is None:
        raise ValidationFailed.single("", N_("Only the platform and resellers create resellers."))
    form = parse(SellerForm, values)
    slug = normalise(form.slug)
    if problem := username_problem(session, slug):
        raise ValidationFailed.single("slug", problem)
    licence = _licence_within(session, parent, values)
    brand = validate_brand({k: values.get(k) for k in ("platform_name", "accent_color", "support_email")})
    org = Organization(name=form.name, slug=slug, kind=kind, parent_id=parent.id)
    session.add(org)
    session.flush()
    if licence is not None:
        session.add(Licence(organization_id=key(org), **licence))
    session.add(
        Branding(
            organization_id=key(org),
            platform_name=brand["platform_name"] or form.name,
            accent_color=brand["accent_color"],
            support_email=brand["support_email"],
        )
    )
    invitation = offer(
        session,
        inviter_user_id=checked.user_id,
        inviter_email=checked.email,
        audit_identity=checked.audit_fields(),
        email=form.owner_email,
        role=Role.OWNER,
        organization_id=key(org),
        ip=ip,
    )
    audit.record(
        session,
        "resellers.create",
        **checked.audit_fields(),
        target=("organization", org.id),
        organization_id=parent.id,
        ip=ip,
        details={"slug": slug, "kind": kind, "tier": (licence or {}).get("tier"), "invitation": invitation.id},
    )
    return org


def _licence_within(session: Session, parent: Organization, values: dict[str, Any]) -> dict[str, Any] | None:
    """The new seller's licence: required from the platform; for a sub-reseller, optional and never more than
    the parent's own (its features a subset, each limit at most the parent's)."""
    given = parent.kind == OrgKind.PLATFORM or bool(values.get("tier"))
    licence = parse(LicenceForm, values).model_dump() if given else None
    if parent.kind == OrgKind.PLATFORM:
        return licence
    own = active_licence(session, key(parent))
    allowed = set(own.features if own else [])
    if licence is None:
        return {
            "tier": "sub-reseller",
            "features": sorted(allowed),
            **{n: getattr(own, n) if own else None for n in LIMITS},
        }
    errors = {}
    if extra := sorted(set(licence["features"]) - allowed):
        errors["features"] = f"not in your own licence: {', '.join(extra)}"
    for name in LIMITS:
        ceiling = getattr(own, name) if own else None
        if ceiling is not None and (licence[name] is None or licence[name] > ceiling):
            errors[name] = f"at most {ceiling}, your own licence's limit"
    if errors:
        raise ValidationFailed(errors)
    return licence


def sellers_below(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """The sellers the actor's organization created, with their owner's invitation and licence."""
    checked = authorise(session, actor, "view", action="resellers.list", target=("organization", "*"))
    rows = session.exec(
        select(Organization)
        .where(
            col(Organization.parent_id) == checked.organization_id,
            col(Organization.kind).in_(tuple(CHILD_KIND.values())),
        )
        .order_by(col(Organization.id))
    ).all()
    listed = []
    for org in rows:
        owners = session.exec(
            select(func.count())
            .select_from(Membership)
            .where(col(Membership.organization_id) == org.id, col(Membership.role) == Role.OWNER)
        ).one()
        pending = session.exec(
            select(Invitation).where(col(Invitation.organization_id) == org.id, col(Invitation.status) == "pending")
        ).first()
        licence = active_licence(session, key(org))
        listed.append(
            {
                "id": str(org.id),
                "name": org.name,
                "slug": org.slug,
                "kind": org.kind,
                "owner": "joined" if owners else (f"invited: {pending.email}" if pending else "none"),
                "tier": licence.tier if licence else "",
            }
        )
    return listed


def setup_steps(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """What a seller's console says to set up next, each with whether it is done (platform staff: nothing)."""
    checked = authorise(session, actor, "view", action="console.setup", target=("organization", "-"))
    if checked.organization_kind not in CHILD_KIND.values():
        return []
    org_id = checked.organization_id
    brand = session.exec(select(Branding).where(col(Branding.organization_id) == org_id)).first()
    domain = session.exec(
        select(Domain).where(
            col(Domain.organization_id) == org_id,
            col(Domain.instance_id).is_(None),
            col(Domain.verified_at).is_not(None),
        )
    ).first()
    payouts = account_of(session, org_id)
    plan = session.exec(
        select(Plan).where(col(Plan.organization_id) == org_id, col(Plan.archived_at).is_(None))
    ).first()
    return [
        _step(
            "brand",
            "Your brand",
            bool(brand and (brand.logo_url or brand.support_email)),
            "Add your logo and a support address under Branding.",
        ),
        _step(
            "domain",
            "Your own domain",
            domain is not None,
            "Serve the portal on your own domain: add it under Branding, then its DNS records.",
        ),
        _step("plans", "Your plans", plan is not None, "Create the plans you sell under Plans."),
        _step(
            "payouts",
            "Payouts",
            payouts is not None and payouts.status == "enabled",
            "Connect your own Stripe account under Payouts: your customers' payments then go to you.",
        ),
    ]


def _step(name: str, title: str, done: bool, hint: str) -> dict[str, str]:
    return {"name": name, "title": title, "done": "yes" if done else "", "hint": hint}
