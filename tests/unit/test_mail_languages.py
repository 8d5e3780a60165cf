"""Every e-mail in English and German: each built-in template has its German twin using the same values, and a
recipient who chose German (or the customer of a seller whose default is German) gets it in German."""

from __future__ import annotations

import pytest
from jinja2 import Environment, meta
from sqlmodel import Session

from services.branding.brand import Brand
from services.i18n import LANGUAGES, SOURCE_LANGUAGE
from services.i18n.recipients import recipient_language
from services.mail.compose import PARTS, TEMPLATE_DIR, render
from services.models import User
from tests.support.mailbox import text_of

TEMPLATES = sorted(p.name.removesuffix(".subject.txt") for p in TEMPLATE_DIR.glob("*.subject.txt"))
OTHERS = [code for code in LANGUAGES if code != SOURCE_LANGUAGE]


def _values(path_name: str) -> set[str]:
    source = (TEMPLATE_DIR / path_name).read_text(encoding="utf-8")
    return set(meta.find_undeclared_variables(Environment().parse(source)))


@pytest.mark.parametrize("language", OTHERS)
def test_every_template_has_its_twin_with_the_same_values(language: str) -> None:
    assert len(TEMPLATES) >= 16
    for template in TEMPLATES:
        for _part, suffix in PARTS:
            english, translated = f"{template}{suffix}", f"{language}/{template}{suffix}"
            assert (TEMPLATE_DIR / translated).is_file(), f"{translated} is missing"
            assert _values(english) == _values(translated), f"{translated} shows other values than {english}"
    extra = {p.name for p in (TEMPLATE_DIR / language).iterdir()} - {p.name for p in TEMPLATE_DIR.iterdir()}
    assert extra == set(), f"{language} templates with no English original: {extra}"


def test_a_german_recipient_reads_german() -> None:
    message = render(
        "welcome",
        "x@example.com",
        {"subdomain": "alice", "url": "https://alice.example", "admin_email": "a@x", "dashboard_url": "https://d"},
        Brand(platform_name="Acme Cloud"),
        language="de",
    )
    assert message["Subject"] == "Ihre Instanz alice ist bereit"
    assert "Erste Anmeldung" in text_of(message)
    assert 'lang="de"' in message.get_body(preferencelist=("html",)).get_content()


def test_the_recipients_choice_then_the_sellers_default(db: Session) -> None:
    db.add(User(email="Hanna@Example.com", username="hanna", password_hash="x", language="de"))
    db.add(User(email="sam@example.com", username="sam", password_hash="x"))
    db.commit()
    assert recipient_language(db, "hanna@example.com", "en") == "de"  # whatever case the address is typed in
    assert recipient_language(db, "sam@example.com", "en") == "en"
    assert recipient_language(db, "sam@example.com", "de") == "de"  # no choice of their own: the seller's
    assert recipient_language(db, "nobody@example.com", "de") == "de"  # an invitation to a new person


def test_amounts_dates_and_sentences_inside_an_email_are_in_its_language() -> None:
    """What services put into an e-mail (services/usage/alerts.py: amounts, the reset day, what happens at 100 %)
    is written the way the recipient's language writes it, not only the template around it."""
    from datetime import datetime

    from services.i18n.message import Amount, say
    from services.models import Plan
    from services.usage.alerts import consequence

    plan = Plan(slug="p", name="P", budget_policy="suspend")
    values = {
        "percent": 80,
        "subdomain": "anna",
        "used": Amount(80_050, "usd"),
        "total": Amount(100_000, "usd"),
        "consequence": consequence(plan, 80),
        "reset_date": datetime(2027, 3, 1),
    }
    german = text_of(render("budget_alert", "anna@example.com", values, Brand(), language="de"))
    assert "800,50\xa0$" in german and "1.000\xa0$" in german and "01 März 2027" in german
    assert "Wenn das ganze Budget verbraucht ist, wird Ihre Instanz gesperrt" in german
    english = text_of(render("budget_alert", "anna@example.com", values, Brand(), language="en"))
    assert "$800.50" in english and "$1,000" in english and "01 Mar 2027" in english
    assert "When the whole budget is used, your instance is suspended" in english
    values = {**dict.fromkeys(_values("plan_price_change.txt"), "x"), "change_date": say("your next renewal")}
    later = text_of(render("plan_price_change", "a@example.com", values, language="de"))
    assert "Ihrer nächsten Verlängerung" in later
