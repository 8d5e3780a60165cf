"""Building an e-mail: the built-in templates (subject, text, HTML) or the seller's overrides, in its brand.

Built-in templates are ours and render with the real values. A reseller's overrides render through
services.templating (limited in size, steps and time) with the token-bearing links kept out of them
(services/mail/links.py); an override that fails or misplaces a link falls back to the built-in part, so the
e-mail is never lost and never leaks. The sender is the seller's name at the platform's address, with replies
going to the seller's support address.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services import templating
from services.branding.brand import Brand
from services.config import get_settings
from services.i18n.message import localise_values
from services.mail import links as link_rules

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
PARTS = (("subject", ".subject.txt"), ("text", ".txt"), ("html", ".html"))
OVERRIDE_LIMITS = templating.Limits(max_output=256 * 1024)
_builtin = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
)


def brand_context(brand: Brand, context: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    return {
        "brand_name": brand.platform_name,
        "support_email": brand.support_email,
        "footer_text": brand.footer_text,
        "powered_by": brand.powered_by,
        "public_url": brand.public_url or settings.public_url,
        **context,
    }


def render_override(source: str, part: str, context: dict[str, Any], links: dict[str, str]) -> str:
    """One part of a reseller's override, with links only where links.place allows them."""
    marks = link_rules.markers()
    rendered = templating.render(source, {**context, **marks}, html=part == "html", limits=OVERRIDE_LIMITS)
    if part == "html":
        rendered = link_rules.clean_html(rendered)
    return link_rules.place(rendered, marks, links, part)


def builtin_path(template: str, suffix: str, language: str) -> str:
    """The built-in part in `language` (templates/<language>/...), English where that language has none."""
    translated = f"{language}/{template}{suffix}"
    return translated if language != "en" and (TEMPLATE_DIR / translated).is_file() else f"{template}{suffix}"


def render(
    template: str,
    to: str,
    context: dict[str, Any],
    brand: Brand | None = None,
    links: dict[str, str] | None = None,
    language: str = "en",
) -> EmailMessage:
    """The message for `template` to `to`, in `brand` and the recipient's `language`; `links` are the
    token-bearing URLs (e.g. {"link": ...})."""
    settings = get_settings()
    brand = brand or Brand()
    links = links or {}
    ctx = brand_context(brand, localise_values(context, language))
    seller = brand.email_templates or {}  # the seller's parts for every language, then for this one
    overrides = {**seller.get(template, {}), **seller.get(f"{language}/{template}", {})}

    def part(name: str, suffix: str) -> str:
        if overrides.get(name):
            try:
                return render_override(overrides[name], name, ctx, links)
            except (templating.TemplateRefused, link_rules.UnsafeLinkUse) as exc:
                log.warning("e-mail override %s.%s of %s not used: %s", template, name, brand.platform_name, exc)
        return _builtin.get_template(builtin_path(template, suffix, language)).render({**ctx, **links})

    message = EmailMessage()
    message["Subject"] = part("subject", ".subject.txt").strip().replace("\n", " ")
    platform_name, platform_address = parseaddr(settings.mail_from)
    sender_name = brand.platform_name if brand.organization_id is not None else (platform_name or brand.platform_name)
    message["From"] = formataddr((sender_name, brand.sender_address or platform_address))
    if brand.support_email:
        message["Reply-To"] = brand.support_email
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(
        domain=(brand.sender_address or platform_address).rpartition("@")[2] or settings.base_domain
    )
    message.set_content(part("text", ".txt"))
    message.add_alternative(part("html", ".html"), subtype="html")
    return message
