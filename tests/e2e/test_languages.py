"""A German-speaking visitor gets German from their browser's Accept-Language; the header's switch changes it, for
this browser and, once signed in, on the account (another browser then speaks it too)."""

from __future__ import annotations

import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import SCRIPTS_WITH_THE_PAGE, sign_in, sign_up, sql
from tests.support.servers import RunningPortal, SmtpInbox

OPERATOR = ("admin@example.com", "demo-password-123")


def _choose(page: Page, language: str) -> None:
    """Pick `language` in the header and wait, as a person would, for the page to come back in it: the switch
    keeps the choice in this browser and reloads the page."""
    page.evaluate("window.__before_the_switch = true")
    page.click("#language-switch")
    page.get_by_role("option", name=language).click()
    page.wait_for_function("() => window.__before_the_switch === undefined")  # reloaded
    expect(page.locator("#language-switch")).to_have_text(language)


def _wait_for_saved_language(portal: RunningPortal, email: str, language: str) -> None:
    deadline = time.monotonic() + 10
    while sql(portal, "SELECT language FROM user_account WHERE email = :e", e=email) != [(language,)]:
        assert time.monotonic() < deadline, f"{email}'s language was not saved as {language}"
        time.sleep(0.2)


def test_the_browsers_language_then_the_switch_then_the_account(browser: Browser, portal: RunningPortal) -> None:
    german = browser.new_context(locale="de-DE")  # Accept-Language: de-DE
    german.add_init_script(SCRIPTS_WITH_THE_PAGE)
    try:
        page = german.new_page()
        page.goto(portal.url + "/login")
        expect(page.locator("#login-submit")).to_have_text("Anmelden")
        expect(page.get_by_text("Passwort vergessen?")).to_be_visible()
        expect(page).to_have_title("Anmelden")  # the tab too
        expect(page.locator("label[for=password]")).to_have_text("Passwort")

        _choose(page, "English")  # this browser's own choice beats what it asks for
        expect(page.locator("#login-submit")).to_have_text("Sign in")
        page.reload()
        expect(page.locator("#login-submit")).to_have_text("Sign in")

        _choose(page, "Deutsch")
        expect(page.locator("#login-submit")).to_have_text("Anmelden")
        sign_in(page, portal.url, *OPERATOR)  # signing in keeps it and saves it on the account
        expect(page.locator("#sign-out")).to_have_text("Abmelden")
        _wait_for_saved_language(portal, OPERATOR[0], "de")  # saved by the dashboard's load, just after it shows
    finally:
        german.close()

    english = browser.new_context(locale="en-US")  # another browser, asking for English: the account's choice wins
    english.add_init_script(SCRIPTS_WITH_THE_PAGE)
    try:
        page = english.new_page()
        sign_in(page, portal.url, *OPERATOR)
        expect(page.locator("#sign-out")).to_have_text("Abmelden")
        _choose(page, "English")
        expect(page.locator("#sign-out")).to_have_text("Sign out")
    finally:
        english.close()
        sql(portal, "UPDATE user_account SET language = NULL WHERE email = :e", e=OPERATOR[0])


def test_a_german_visitor_signs_up_and_reads_the_e_mail_in_german(
    browser: Browser, portal: RunningPortal, inbox: SmtpInbox
) -> None:
    german = browser.new_context(locale="de-DE")
    german.add_init_script(SCRIPTS_WITH_THE_PAGE)
    try:
        page = german.new_page()
        page.goto(portal.url + "/signup")
        expect(page.locator("#signup-submit")).to_have_text("Konto anlegen")
        sign_up(page, portal.url, "deutschkunde", plan="free")
        expect(page.locator("#sign-out")).to_have_text("Abmelden")
    finally:
        german.close()
    message = inbox.wait_for("deutschkunde@example.com", "E-Mail-Adresse")
    assert message["Subject"].startswith("Bestätigen Sie Ihre E-Mail-Adresse")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "bitte bestätigen Sie Ihre E-Mail-Adresse" in body
