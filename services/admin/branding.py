"""Editing a reseller's brand: each field checked, custom CSS sanitised, logos checked by their bytes.

Only owners and admins of the organization (or above it) may change its brand, and only organizations that
sell (platform, resellers, sub-resellers) have one. Every change is audited, the CSS itself is not copied into
the audit log (only its size).
"""

from __future__ import annotations

import hashlib
from email.utils import parseaddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from services import audit, dns_proof
from services.branding.assets import ASSET_ROUTE, asset_dir
from services.branding.brand import brand_for
from services.branding.css import sanitize_css
from services.config import get_settings
from services.crypto import new_token
from services.errors import ValidationFailed
from services.i18n import LANGUAGES
from services.i18n.catalog import N_
from services.i18n.message import say
from services.mail.overrides import EMAIL_PARTS, EMAIL_TEMPLATES, override_problem
from services.models import Branding, Organization
from services.models.base import key, utcnow
from services.tenancy import hostnames
from services.tenancy.licences import require_feature
from services.tenancy.scope import ADMIN_KINDS, Actor, authorise

ACCENTS = (
    "tomato",
    "red",
    "ruby",
    "crimson",
    "pink",
    "plum",
    "purple",
    "violet",
    "iris",
    "indigo",
    "blue",
    "cyan",
    "teal",
    "jade",
    "green",
    "grass",
    "brown",
    "orange",
    "sky",
    "mint",
    "lime",
    "yellow",
    "amber",
    "gold",
    "bronze",
    "gray",
)
GRAYS = ("gray", "mauve", "slate", "sage", "olive", "sand")
RADII = ("none", "small", "medium", "large", "full")
MAX_LOGO_BYTES = 512 * 1024
# magic bytes -> extension; SVG is refused: it can carry script
LOGO_TYPES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))
# what the branding editor edits as text (the form, its state and `update` use exactly these, by name)
EDITABLE = (
    "platform_name",
    "accent_color",
    "gray_color",
    "radius",
    "language",
    "support_email",
    "footer_text",
    "custom_css",
)
IMAGES = ("logo_url", "favicon_url")  # set by uploads, not typed
TEXT_LIMITS = {"platform_name": 120, "footer_text": 500}


def seller_for_branding(
    session: Session, actor: Actor | None, organization_id: int, attempted: str
) -> tuple[Organization, Actor]:
    org = session.get(Organization, organization_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action=attempted,
        target=("organization", organization_id),
        organization_id=org.id if org and org.kind in ADMIN_KINDS else -1,
    )
    assert org is not None
    return org, checked


def own_branding(session: Session, org: Organization) -> Branding:
    """The organization's own branding row, new (not yet added) when it has never set anything."""
    found = session.exec(select(Branding).where(col(Branding.organization_id) == org.id)).first()
    return found or Branding(organization_id=key(org))


def current(session: Session, actor: Actor | None, organization_id: int) -> dict[str, Any]:
    """The organization's own overrides (what the form edits) beside the brand it shows (with inheritance)."""
    seller_for_branding(session, actor, organization_id, "branding.view")
    own = session.exec(select(Branding).where(col(Branding.organization_id) == organization_id)).first()
    fields = {name: str(getattr(own, name) or "") if own else "" for name in (*EDITABLE, *IMAGES)}
    return {
        "own": fields,
        "hide_platform_branding": bool(own and own.hide_platform_branding),
        "effective": brand_for(session, organization_id).to_dict(),
        "email_templates": dict(own.email_templates or {}) if own else {},
        "words": dict(own.words or {}) if own else {},
    }


def validate(values: dict[str, Any], organization_id: int | None = None) -> dict[str, Any]:
    """The cleaned values, or ValidationFailed naming every bad field; "" means "inherit"."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        text = str(values.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = f"must be at most {limit} characters"
        clean[name] = text or None
    for name, allowed in (
        ("accent_color", ACCENTS),
        ("gray_color", GRAYS),
        ("radius", RADII),
        ("language", tuple(LANGUAGES)),
    ):
        value = str(values.get(name) or "").strip()
        if value and value not in allowed:
            errors[name] = f"must be one of {', '.join(allowed)}"
        clean[name] = value or None
    email = str(values.get("support_email") or "").strip()
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["support_email"] = str(exc)
    clean["support_email"] = email or None
    try:
        clean["custom_css"] = sanitize_css(values.get("custom_css"), organization_id) or None
    except ValidationFailed as exc:
        errors.update(exc.errors)
    clean["hide_platform_branding"] = bool(values.get("hide_platform_branding"))
    if errors:
        raise ValidationFailed(errors)
    return clean


def update(
    session: Session, actor: Actor | None, organization_id: int, values: dict[str, Any], *, ip: str = ""
) -> Branding:
    org, checked = seller_for_branding(session, actor, organization_id, "branding.update")
    clean = validate(values, org.id)
    if clean["custom_css"]:
        require_feature(session, org.id, "custom_css", "custom_css")
    if clean["hide_platform_branding"]:
        require_feature(session, org.id, "hide_platform_branding", "hide_platform_branding")
    branding = own_branding(session, org)
    for name, value in clean.items():
        setattr(branding, name, value)
    session.add(branding)
    audit.record(
        session,
        "branding.update",
        actor_label=checked.email,
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={
            **{k: v for k, v in clean.items() if k != "custom_css"},
            "custom_css_chars": len(clean["custom_css"] or ""),
        },
    )
    return branding


def store_logo(
    session: Session, actor: Actor | None, organization_id: int, data: bytes, *, ip: str = "", kind: str = "logo"
) -> str:
    """Check and keep an uploaded logo (or favicon: `kind`); returns the URL the brand now uses."""
    if kind not in ("logo", "favicon"):
        raise ValueError(f"Unknown brand image {kind!r}.")
    org, checked = seller_for_branding(session, actor, organization_id, f"branding.{kind}")
    if not data:
        raise ValidationFailed.single("logo", N_("The file is empty."))
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed.single("logo", say("The logo must be at most {kb} KB.", kb=MAX_LOGO_BYTES // 1024))
    extension = next((ext for magic, ext in LOGO_TYPES if data.startswith(magic)), None)
    if extension is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        extension = "webp"
    if extension is None:
        raise ValidationFailed.single(
            "logo", N_("The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).")
        )
    name = f"{org.id}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
    folder = asset_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    branding = own_branding(session, org)
    setattr(branding, f"{kind}_url", ASSET_ROUTE + name)
    session.add(branding)
    audit.record(
        session,
        f"branding.{kind}",
        actor_label=checked.email,
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={"bytes": len(data), "type": extension},
    )
    return ASSET_ROUTE + name


def email_key(template: str, language: str) -> str:
    """Where a seller's parts of `template` are kept: "welcome" for every language, "de/welcome" for German."""
    return f"{language}/{template}" if language else template


def save_email_template(
    session: Session,
    actor: Actor | None,
    organization_id: int,
    template: str,
    parts: dict[str, str],
    *,
    language: str = "",
    ip: str = "",
) -> None:
    """Override some parts of one e-mail for this brand, for every language ("") or one; empty parts fall back to
    that language's parts, then to the built-in ones.

    Each part is rendered now with sample values, within the limits it will meet when sent, and a link that
    carries a token must stand where the portal places it (services/mail/links.py); otherwise it is refused.
    """
    org, checked = seller_for_branding(session, actor, organization_id, "branding.email_template")
    if template not in EMAIL_TEMPLATES:
        raise ValidationFailed.single("template", say("must be one of {choices}", choices=", ".join(EMAIL_TEMPLATES)))
    if language and language not in LANGUAGES:
        raise ValidationFailed.single("language", say("must be one of {choices}", choices=", ".join(LANGUAGES)))
    errors: dict[str, str] = {}
    clean = {part: str(parts.get(part) or "").strip() for part in EMAIL_PARTS}
    for part, text in clean.items():
        if not text:
            continue
        if problem := override_problem(text, part):
            errors[part] = problem
    if errors:
        raise ValidationFailed(errors)
    branding = own_branding(session, org)
    overrides = dict(branding.email_templates or {})
    kept = {part: text for part, text in clean.items() if text}
    if kept:
        overrides[email_key(template, language)] = kept
    else:
        overrides.pop(email_key(template, language), None)
    branding.email_templates = overrides  # a new dict, so the JSON column is written
    session.add(branding)
    audit.record(
        session,
        "branding.email_template",
        actor_label=checked.email,
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={"template": template, "language": language or "all", "parts": sorted(kept)},
    )


def sender_status(session: Session, actor: Actor | None, organization_id: int) -> dict[str, str]:
    """The seller's own From address, the DNS record that proves it, and whether it is proven."""
    org, _checked = seller_for_branding(session, actor, organization_id, "branding.sender_view")
    own = session.exec(select(Branding).where(col(Branding.organization_id) == org.id)).first()
    if own is None or not own.sender_email or not own.sender_token:
        return {}
    record = dns_proof.challenge(own.sender_email.rpartition("@")[2], own.sender_token)
    return {
        "email": own.sender_email,
        "record_name": record.name,
        "record_value": record.value,
        "verified": "yes" if own.sender_verified_at else "",
    }


def set_sender(session: Session, actor: Actor | None, organization_id: int, email: str, *, ip: str = "") -> None:
    """Ask to send this seller's e-mail From `email`; it is used once its domain is proven (verify_sender).
    An empty address goes back to the platform's address (with the seller's name and Reply-To)."""
    org, checked = seller_for_branding(session, actor, organization_id, "branding.sender")
    branding = own_branding(session, org)
    email = email.strip()
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationFailed.single("sender_email", str(exc)) from exc
        domain = hostnames.normalise_host(email.rpartition("@")[2])
        platform_domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2].lower()
        if hostnames.under_base_domain(domain) or domain in (hostnames.portal_host(), platform_domain):
            raise ValidationFailed.single(
                "sender_email", say("{domain} is the platform's; use a domain of your own.", domain=domain)
            )
    if email != (branding.sender_email or ""):
        branding.sender_email = email or None
        branding.sender_token = new_token(16) if email else None
        branding.sender_verified_at = None
    session.add(branding)
    audit.record(
        session,
        "branding.sender",
        **checked.audit_fields(),
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={"sender_email": email},
    )


def verify_sender(session: Session, actor: Actor | None, organization_id: int, *, ip: str = "") -> None:
    """Look the proof up in DNS now; from then on the seller's e-mail goes out From its own address."""
    org, checked = seller_for_branding(session, actor, organization_id, "branding.sender_verify")
    branding = session.exec(select(Branding).where(col(Branding.organization_id) == org.id)).first()
    if branding is None or not branding.sender_email or not branding.sender_token:
        raise ValidationFailed.single("sender_email", N_("Enter the address to send from first."))
    ok, why = dns_proof.proven(branding.sender_email.rpartition("@")[2], branding.sender_token)
    if not ok:
        raise ValidationFailed.single("sender_email", say("Not proven yet: {why}.", why=why))
    branding.sender_verified_at = utcnow()
    session.add(branding)
    audit.record(
        session,
        "branding.sender_verified",
        **checked.audit_fields(),
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={"sender_email": branding.sender_email},
    )
