"""Delivering a finished message: SMTP when SMTP_URL is set, otherwise an .eml file in the outbox."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from services.config import get_settings

log = logging.getLogger(__name__)


def deliver(message: EmailMessage) -> None:
    """Send now: SMTP when SMTP_URL is set, otherwise an .eml file in the outbox (the embedded default)."""
    settings = get_settings()
    if settings.smtp_url:
        _send_smtp(settings.smtp_url, message)
    else:
        _write_outbox(settings.outbox_dir or settings.var_dir / "outbox", message)
    log.info("mail delivered: %s", message["Subject"])


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
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parsed.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parsed.port or 25, timeout=timeout)
    with client:
        if parsed.scheme == "smtp" and options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parsed.username:
            client.login(unquote(parsed.username), unquote(parsed.password or ""))
        client.send_message(message)
