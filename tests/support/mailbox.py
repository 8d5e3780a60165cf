"""Reading captured e-mails (outbox files or aiosmtpd) the way a user reads their inbox."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://\S+?(?:token=[A-Za-z0-9_\-]+)")


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def link_in(message: EmailMessage) -> str:
    match = LINK.search(text_of(message))
    assert match, f"no link in e-mail {message['Subject']!r}"
    return match.group(0)


def staff_alerts(outbox: Path) -> list[str]:
    """Who got a staff incident e-mail ("Needs a look"), sorted."""
    return sorted(str(m["To"]) for m in outbox_messages(outbox) if "Needs a look" in str(m["Subject"]))
