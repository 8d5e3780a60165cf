"""Which language a person gets, and dates and money as that language writes them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from services.accounts.language import page_language, set_language
from services.errors import ValidationFailed
from services.i18n import choose_language, format_date, format_money
from services.models import User


@pytest.mark.parametrize(
    ("chosen", "header", "seller", "expected"),
    [
        ("de", "en-US,en;q=0.9", "en", "de"),  # the person's own choice first
        (None, "fr-FR,de;q=0.5,en;q=0.3", "en", "de"),  # then the browser's, by its weights
        (None, "en;q=0.2,de-AT;q=0.8", "en", "de"),
        (None, "fr-FR,es", "de", "de"),  # then the seller's default
        (None, "", None, "en"),  # then English
        ("xx", "de", "en", "de"),  # a choice the portal does not speak is no choice
        (None, "de;q=abc,en", "de", "en"),  # a broken weight drops that language only
        (None, "de," * 600, "en", "en"),  # a header longer than any browser sends is ignored
        (None, "*", "de", "de"),
    ],
)
def test_the_language_follows_the_person_then_the_browser_then_the_seller(
    chosen: str | None, header: str, seller: str | None, expected: str
) -> None:
    assert choose_language(chosen, header, seller) == expected


def test_money_and_dates_are_written_as_each_language_writes_them() -> None:
    assert format_money(123450, "usd", "en") == "$1,234.50"
    assert format_money(123450, "eur", "de") == "1.234,50\xa0€"
    assert format_money(1900, "usd", "en") == "$19" and format_money(1900, "eur", "de") == "19\xa0€"  # whole: no cents
    assert format_date(date(2026, 12, 7), "de") == "07 Dez. 2026"
    assert format_date(date(2026, 12, 7), "en") == "07 Dec 2026"
    assert format_date(None, "de") == ""


def test_a_persons_choice_is_kept_on_their_account(db: Session) -> None:
    user = User(email="lang@example.com", username="lang", password_hash="x")
    db.add(user)
    db.commit()
    assert page_language(db, user.id, "", "en", "en") == "en"  # type: ignore[arg-type]
    set_language(db, user.id, "de")  # type: ignore[arg-type]
    db.commit()
    assert page_language(db, user.id, "", "en-US", "en") == "de"  # type: ignore[arg-type]  # on any browser
    with pytest.raises(ValidationFailed):
        set_language(db, user.id, "klingon")  # type: ignore[arg-type]
    assert page_language(db, 0, "de", "en", "en") == "de"  # a visitor's choice in this browser

    newcomer = User(email="new@example.com", username="newcomer", password_hash="x")
    db.add(newcomer)
    db.commit()
    assert page_language(db, newcomer.id, "de", "en", "en") == "de"  # type: ignore[arg-type]  # chosen, then signed up
    db.commit()
    db.refresh(newcomer)
    assert newcomer.language == "de"  # kept: their e-mails go in German
    assert page_language(db, newcomer.id, "en", "en", "en") == "de"  # type: ignore[arg-type]  # the account decides


def test_a_seller_sets_the_default_language_of_its_whole_tree(db: Session, tree: dict) -> None:
    from sqlmodel import select

    from services.admin.branding import update
    from services.branding.brand import brand_for
    from services.models import Organization
    from tests.support.tenants import actor

    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    customer = db.exec(select(Organization).where(Organization.slug == "cust-a")).one()
    other = db.exec(select(Organization).where(Organization.slug == "cust-b")).one()
    with pytest.raises(ValidationFailed):
        update(db, actor(db, tree, "a-admin"), reseller.id, {"language": "fr"})  # type: ignore[arg-type]
    db.rollback()
    update(db, actor(db, tree, "a-admin"), reseller.id, {"language": "de"})  # type: ignore[arg-type]
    db.commit()
    assert brand_for(db, customer.id).language == "de"  # through the sub-reseller, inherited
    assert brand_for(db, other.id).language == "en"  # another reseller's tree keeps the platform's
    assert page_language(db, 0, "", "fr-FR", brand_for(db, customer.id).language) == "de"


def test_the_dashboard_and_history_speak_the_customers_language(db: Session) -> None:
    from datetime import UTC, datetime

    from services.customer.history import instance_history
    from services.dashboard import load_dashboard
    from services.models import Subscription
    from tests.support import tenants
    from tests.support.factories import customer_instance

    instance = customer_instance(db, "sprecher")
    instance.status = "running"
    subscription = db.get(Subscription, instance.subscription_id)
    assert subscription is not None
    subscription.status, subscription.grace_until = "past_due", datetime(2026, 12, 24, tzinfo=UTC)
    db.add_all([instance, subscription])
    db.commit()
    who = tenants.customer(db, "sprecher")

    german = load_dashboard(db, who, "de")
    assert german.instance_status_label == "Läuft"
    assert german.plan_price == "10\xa0$ / Monat"
    assert german.dunning_banner == (
        "Ihre letzte Zahlung ist fehlgeschlagen. Ihre Instanz wird am 24 Dez. 2026 gesperrt, sofern Sie Ihre "
        "Zahlungsmethode nicht aktualisieren."
    )
    english = load_dashboard(db, who)
    assert english.instance_status_label == "Running" and english.plan_price == "$10 / month"
    assert "suspended on 24 Dec 2026 unless" in english.dunning_banner
    assert instance_history(db, who, instance.id, "de").uptime[-1]["label"].endswith("nicht geprüft")  # type: ignore[arg-type]
