"""The brand a page or an e-mail shows: the organization's own overrides on top of its parents', up to the
platform's defaults. Which organization a request is for comes from its host name (a reseller's custom domain),
never from who is signed in; branding is display only and grants nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import Branding, Domain, Organization, OrgKind
from services.models.base import key
from services.tenancy.licences import has_feature

MAX_DEPTH = 8  # platform > reseller > sub-reseller > customer, with room to spare; a cycle cannot loop forever


@dataclass(frozen=True)
class Brand:
    organization_id: int | None = None  # the organization whose host this is (plans and signups belong there)
    platform_name: str = "Portal"
    logo_url: str = ""
    favicon_url: str = ""
    accent_color: str = "indigo"
    gray_color: str = "slate"
    radius: str = "medium"
    custom_css: str = ""
    support_email: str = ""
    footer_text: str = "Your own application instance, managed for you."
    hide_platform_branding: bool = False
    language: str = "en"  # the seller's default language (services/i18n: after the person's and the browser's)
    powered_by: str = ""  # "Portal" under a reseller's brand unless they hide it
    email_templates: dict[str, dict[str, str]] | None = None  # name -> {"subject", "text", "html"} overrides
    words: dict[str, dict[str, str]] | None = None  # language -> {built-in text: the seller's own}
    public_url: str = ""  # the portal under this brand's own domain, for links in e-mails ("" = PUBLIC_URL)
    sender_address: str = ""  # the seller's own From address, once its domain is verified ("" = the platform's)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# what a page shows of the brand (portal/state/brand.py holds exactly these, by name)
SHOWN = (
    "platform_name",
    "logo_url",
    "favicon_url",
    "accent_color",
    "gray_color",
    "radius",
    "custom_css",
    "footer_text",
    "support_email",
    "powered_by",
    "language",
)


def shown(brand: Brand) -> dict[str, str]:
    return {name: str(getattr(brand, name)) for name in SHOWN}


# What a page shows before the host's brand is known (prerendered, the same HTML for every host): nobody's name,
# logo or words, and grey for the colours, so the platform's brand never flashes on a reseller's domain.
NEUTRAL = {**dict.fromkeys(SHOWN, ""), "accent_color": "gray", "gray_color": "gray", "radius": "medium"}


_OVERRIDABLE = [
    f.name
    for f in fields(Brand)
    if f.name not in ("organization_id", "powered_by", "email_templates", "words", "public_url", "sender_address")
]


def _chain(session: Session, organization_id: int) -> list[Organization]:
    """The organization and its ancestors, nearest first."""
    chain: list[Organization] = []
    current = session.get(Organization, organization_id)
    while current is not None and len(chain) < MAX_DEPTH:
        chain.append(current)
        current = session.get(Organization, current.parent_id) if current.parent_id else None
    return chain


def brand_for(session: Session, organization_id: int | None) -> Brand:
    """Merged branding: each field from the nearest organization in the chain that sets it."""
    if organization_id is None:
        platform = session.exec(select(Organization).where(col(Organization.kind) == OrgKind.PLATFORM)).first()
        organization_id = platform.id if platform else None
    if organization_id is None:
        return Brand()
    chain = _chain(session, organization_id)
    overrides = {
        b.organization_id: b
        for b in session.exec(select(Branding).where(col(Branding.organization_id).in_([o.id for o in chain]))).all()
    }
    values: dict[str, Any] = {}
    templates: dict[str, dict[str, str]] = {}
    words: dict[str, dict[str, str]] = {}
    sender = ""
    for org in reversed(chain):  # platform first, nearest last: nearer wins
        branding = overrides.get(key(org))
        if branding is None:
            continue
        for name in _OVERRIDABLE:
            value = getattr(branding, name, None)
            if value not in (None, ""):
                values[name] = value
        templates.update({k: v for k, v in (branding.email_templates or {}).items() if isinstance(v, dict)})
        for language, own in (branding.words or {}).items():
            if isinstance(own, dict):  # nearer sellers override their parents' words one text at a time
                words[language] = {**words.get(language, {}), **own}
        if branding.sender_email and branding.sender_verified_at is not None:
            sender = branding.sender_email
    values["email_templates"] = templates
    values["words"] = words
    values["sender_address"] = sender
    if values.get("custom_css") and not has_feature(session, organization_id, "custom_css"):
        values["custom_css"] = ""  # a licence without custom CSS (or one that lost it) shows none
    if values.get("hide_platform_branding") and not has_feature(session, organization_id, "hide_platform_branding"):
        values["hide_platform_branding"] = False
    brand = Brand(organization_id=organization_id, **values)
    branded_by_reseller = any(o.kind in (OrgKind.RESELLER, OrgKind.SUB_RESELLER) and o.id in overrides for o in chain)
    powered_by = "" if brand.hide_platform_branding or not branded_by_reseller else Brand().platform_name
    return replace(brand, powered_by=powered_by, public_url=_portal_url(session, [o.id for o in chain]))


def _on_host(host: str) -> str:
    """The portal under another host name, with PUBLIC_URL's scheme and port."""
    public = urlsplit(get_settings().public_url)
    return f"{public.scheme}://{host}" + (f":{public.port}" if public.port else "")


def _portal_domains() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """A seller's portal domain that DNS has proven (customers' instance domains never carry a brand)."""
    return col(Domain.instance_id).is_(None), col(Domain.verified_at).is_not(None)


def _chain_domains(session: Session, chain_ids: list[int | None]) -> list[Domain]:
    return list(
        session.exec(
            select(Domain)
            .where(col(Domain.organization_id).in_(chain_ids), *_portal_domains())
            .order_by(col(Domain.id))
        ).all()
    )


def _portal_url(session: Session, chain_ids: list[int | None]) -> str:
    """The nearest organization's own portal domain, with PUBLIC_URL's scheme and port."""
    domains = _chain_domains(session, chain_ids)
    for org_id in chain_ids:
        host = next((d.hostname for d in domains if d.organization_id == org_id), None)
        if host:
            return _on_host(host)
    return ""


def portal_url(session: Session, organization_id: int | None, request_host: str = "") -> str:
    """Where to send this organization's people back to: the host they are on, if it is one of their sellers'.

    A customer who pays on a reseller's domain must come back from Stripe to that same domain (where their
    browser holds their session, under that brand). The host a browser reports is only used when it is a
    domain of the organization's own seller chain or the portal's own host; anything else falls back to the
    brand's own domain, then to PUBLIC_URL, so a forged host can never send anyone elsewhere.
    """
    settings = get_settings()
    host = (request_host or "").strip().lower().rstrip(".").split(":")[0]
    if host and host == (urlsplit(settings.public_url).hostname or ""):
        return settings.public_url.rstrip("/")
    chain_ids = [o.id for o in _chain(session, organization_id)] if organization_id else []
    if host and any(d.hostname == host for d in _chain_domains(session, chain_ids)):
        return _on_host(host)
    return _portal_url(session, chain_ids) or settings.public_url.rstrip("/")


def organization_for_host(session: Session, hostname: str | None) -> int | None:
    """The reseller (or platform) a host name belongs to; None for unknown hosts (the platform's brand)."""
    host = (hostname or "").strip().lower().rstrip(".").split(":")[0]
    if not host:
        return None
    domain = session.exec(select(Domain).where(col(Domain.hostname) == host, *_portal_domains())).first()
    return domain.organization_id if domain else None


def brand_for_host(session: Session, hostname: str | None) -> Brand:
    return brand_for(session, organization_for_host(session, hostname))
