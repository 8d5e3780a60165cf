"""E-mail: jinja2 templates (subject, text, HTML), delivered over SMTP or written to var/outbox as .eml."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import Session

from services.config import get_settings
from services.db import after_commit

if TYPE_CHECKING:
    from services.branding.brand import Brand

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
_sandbox = {"text": SandboxedEnvironment(autoescape=False, undefined=StrictUndefined),
            "html": SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)}
_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
)


def render(template: str, to: str, context: dict[str, Any], brand: "Brand | None" = None) -> EmailMessage:
    """Build the message from `<template>.subject.txt`, `.txt` and `.html`, in the brand of the recipient's seller.

    A reseller may override any of the three parts per template; overrides render in a sandbox with the same
    variables, and a broken override falls back to the built-in part instead of losing the e-mail.
    """
    from services.branding.brand import Brand

    settings = get_settings()
    brand = brand or Brand()
    ctx = {"brand_name": brand.platform_name, "support_email": brand.support_email, "footer_text": brand.footer_text,
           "powered_by": brand.powered_by, "public_url": brand.public_url or settings.public_url, **context}
    overrides = (brand.email_templates or {}).get(template, {})

    def part(name: str, suffix: str) -> str:
        if overrides.get(name):
            try:
                return _sandbox["html" if name == "html" else "text"].from_string(overrides[name]).render(ctx)
            except Exception:  # noqa: BLE001 - the reseller's template is broken: send ours rather than nothing
                log.warning("e-mail template override %s.%s of %s failed; using the built-in one",
                            template, name, brand.platform_name)
        return _env.get_template(f"{template}{suffix}").render(ctx)

    message = EmailMessage()
    message["Subject"] = part("subject", ".subject.txt").strip().replace("\n", " ")
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.base_domain)
    message.set_content(part("text", ".txt"))
    message.add_alternative(part("html", ".html"), subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    """Send now: SMTP when SMTP_URL is set, otherwise an .eml file in the outbox (the embedded default)."""
    settings = get_settings()
    if settings.smtp_url:
        _send_smtp(settings.smtp_url, message)
    else:
        _write_outbox(settings.outbox_dir, message)  # type: ignore[arg-type]
    log.info("mail delivered: %s to %s", message["Subject"], message["To"])


def _write_outbox(outbox: Path, message: EmailMessage) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{formatdate(usegmt=True).replace(' ', '_').replace(',', '')}-{uuid.uuid4().hex[:8]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(message))
    tmp.rename(path)  # readers never see half a message
    return path


def _send_smtp(url: str, message: EmailMessage) -> None:
    parsed = urlparse(url)
    options = parse_qs(parsed.query)
    host = parsed.hostname or "localhost"
    timeout = float(options.get("timeout", ["20"])[0])
    if parsed.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parsed.port or 465, timeout=timeout,
                                               context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, parsed.port or 25, timeout=timeout)
    with client:
        if parsed.scheme == "smtp" and options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parsed.username:
            client.login(unquote(parsed.username), unquote(parsed.password or ""))
        client.send_message(message)


def send_after_commit(session: Session, message: EmailMessage) -> None:
    """Queue the message once the caller's transaction commits, so a rolled-back sign-up sends nothing."""
    from services.jobs.tasks import deliver_email

    after_commit(session, lambda: deliver_email(bytes(message)))
