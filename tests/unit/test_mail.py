"""Mail is rendered from templates and delivered to a real SMTP server, or to the .eml outbox without one."""

from __future__ import annotations

from tests.support.env import SettingsEnv

from pathlib import Path

import pytest

from services.mail import deliver, render
from tests.support.mailbox import outbox_messages, text_of
from tests.support.servers import smtp_server


def test_render_has_text_and_html_parts_and_escapes_html() -> None:
    message = render("verify_email", "x@example.com",
                     {"username": "<script>", "link": "http://portal.test/verify?token=abc", "hours": 48})
    assert message["Subject"] == "Confirm your e-mail address for Portal"
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "http://portal.test/verify?token=abc" in text_of(message)


def test_without_smtp_mail_goes_to_the_outbox(outbox: Path) -> None:
    deliver(render("password_changed", "x@example.com", {"username": "x"}))
    [message] = outbox_messages(outbox)
    assert message["To"] == "x@example.com" and "changed" in message["Subject"]


def test_with_smtp_url_mail_goes_to_the_smtp_server(settings_env: SettingsEnv, outbox: Path) -> None:
    with smtp_server() as (inbox, port):
        settings_env.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        deliver(render("password_changed", "y@example.com", {"username": "y"}))
        received = inbox.wait_for("y@example.com", "changed", timeout=10)
    assert "password of your account was just changed" in text_of(received)
    assert outbox_messages(outbox) == []


def test_an_unreachable_smtp_server_raises_so_the_job_is_retried(settings_env: SettingsEnv) -> None:
    from tests.support.servers import free_port

    settings_env.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(OSError):
        deliver(render("password_changed", "z@example.com", {"username": "z"}))
