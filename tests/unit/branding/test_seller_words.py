"""A seller's own words, per language, in place of any built-in text of their portal, and their own e-mails per
language (services/admin/words.py, services/admin/branding.py, services/mail/compose.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import branding as editor
from services.admin import words
from services.branding.brand import Brand, brand_for
from services.errors import ValidationFailed
from services.i18n import translations
from services.mail.compose import render
from services.models import AuditEvent, Branding, Organization
from services.tenancy.scope import Forbidden
from tests.support.mailbox import text_of
from tests.support.tenants import actor as _actor
from tests.unit.test_mail_languages import _values


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def test_a_sellers_words_replace_built_in_texts_in_their_language_and_below_them(db: Session, tree: dict) -> None:
    reseller, sub = _org(db, "reseller-a"), _org(db, "sub-a")
    admin = _actor(db, tree, "a-admin")
    words.save_word(db, admin, reseller.id, "de", "Sign in", "Einloggen")
    words.save_word(db, admin, reseller.id, "en", "Create an account", "Join Alpha")
    db.commit()
    shown = brand_for(db, sub.id).words  # the sub-reseller's customers see them too
    german = words.texts_in("de", translations("de"), shown)
    assert german["Sign in"] == "Einloggen"
    assert german["Create an account"] == "Konto anlegen"  # not replaced in German: the built-in German
    assert words.texts_in("en", translations("en"), shown) == {"Create an account": "Join Alpha"}
    assert words.texts_in("de", translations("de"), brand_for(db, _org(db, "reseller-b").id).words)["Sign in"] == (
        "Anmelden"
    )  # another seller's portal keeps the built-in text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "branding.words")).first()
    assert event is not None and event.details["language"] in ("de", "en")


def test_a_nearer_seller_overrides_its_parent_one_text_at_a_time(db: Session, tree: dict) -> None:
    reseller, sub = _org(db, "reseller-a"), _org(db, "sub-a")
    words.save_word(db, _actor(db, tree, "a-admin"), reseller.id, "de", "Sign in", "Einloggen")
    words.save_word(db, _actor(db, tree, "a-admin"), reseller.id, "de", "Sign out", "Ausloggen")
    db.add(Branding(organization_id=sub.id, words={"de": {"Sign in": "Hereinspaziert"}}))  # the sub-reseller's own
    db.commit()
    assert brand_for(db, sub.id).words == {"de": {"Sign in": "Hereinspaziert", "Sign out": "Ausloggen"}}
    own = db.exec(select(Branding).where(Branding.organization_id == sub.id)).one()
    own.words = {}
    db.add(own)
    db.commit()
    assert brand_for(db, sub.id).words == {"de": {"Sign in": "Einloggen", "Sign out": "Ausloggen"}}


@pytest.mark.parametrize(
    ("language", "text", "replacement", "field"),
    [
        ("fr", "Sign in", "Connexion", "language"),
        ("de", "A text the portal never shows", "x", "text"),
        ("de", "Sign in", "x" * (words.MAX_LENGTH + 1), "replacement"),
        ("de", "Sign in", "Ein\x00loggen", "replacement"),
        ("de", "Sign in", "Ein\u202eloggen", "replacement"),  # a direction override would garble the page
        ("de", "Too many attempts. Please wait {seconds} seconds and try again.", "Zu viele Versuche.", "replacement"),
        ("de", "Sign in", "Sign {in}", "replacement"),
        (  # the same braces, but reaching through a value: str.format would read attributes with it
            "en",
            "Too many attempts. Please wait {seconds} seconds and try again.",
            "Wait {seconds.__class__} seconds.",
            "replacement",
        ),
        (
            "en",
            "Too many attempts. Please wait {seconds} seconds and try again.",
            "Wait {minutes} minutes.",
            "replacement",
        ),
    ],
)
def test_bad_words_are_refused_and_nothing_is_stored(
    db: Session, tree: dict, language: str, text: str, replacement: str, field: str
) -> None:
    reseller = _org(db, "reseller-a")
    with pytest.raises(ValidationFailed) as refused:
        words.save_word(db, _actor(db, tree, "a-admin"), reseller.id, language, text, replacement)
    assert set(refused.value.errors) == {field}
    db.rollback()
    assert not brand_for(db, reseller.id).words


def test_a_seller_keeps_a_bounded_number_of_words(db: Session, tree: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(words, "MAX_PER_LANGUAGE", 2)
    reseller, admin = _org(db, "reseller-a"), _actor(db, tree, "a-admin")
    words.save_word(db, admin, reseller.id, "de", "Sign in", "Eins")
    words.save_word(db, admin, reseller.id, "de", "Sign out", "Zwei")
    words.save_word(db, admin, reseller.id, "de", "Sign in", "Eins, geändert")  # changing one is not another
    with pytest.raises(ValidationFailed):
        words.save_word(db, admin, reseller.id, "de", "Create an account", "Drei")


def test_only_the_sellers_own_staff_change_its_words(db: Session, tree: dict) -> None:
    with pytest.raises(Forbidden):
        words.save_word(db, _actor(db, tree, "b-admin"), _org(db, "reseller-a").id, "de", "Sign in", "Gekapert")


def test_an_email_for_one_language_goes_to_its_readers_and_every_language_falls_back(db: Session, tree: dict) -> None:
    reseller, admin = _org(db, "reseller-a"), _actor(db, tree, "a-admin")
    editor.save_email_template(db, admin, reseller.id, "welcome", {"subject": "Welcome to Alpha"})  # type: ignore[arg-type]
    editor.save_email_template(
        db,
        admin,
        reseller.id,
        "welcome",
        {"subject": "Willkommen bei Alpha"},  # type: ignore[arg-type]
        language="de",
    )
    with pytest.raises(ValidationFailed):
        editor.save_email_template(db, admin, reseller.id, "welcome", {"subject": "x"}, language="fr")  # type: ignore[arg-type]
    db.commit()
    brand = brand_for(db, reseller.id)
    values = dict.fromkeys(_values("welcome.txt") | _values("welcome.html") | _values("welcome.subject.txt"), "anna")
    german = render("welcome", "anna@example.com", values, brand, {"link": "https://x"}, language="de")
    english = render("welcome", "anna@example.com", values, brand, {"link": "https://x"}, language="en")
    assert german["Subject"] == "Willkommen bei Alpha" and english["Subject"] == "Welcome to Alpha"
    assert "anna" in text_of(german)  # the body is still the built-in German one
    assert render("welcome", "a@example.com", values, Brand(), {"link": "https://x"}, language="de")["Subject"] != (
        "Willkommen bei Alpha"
    )
