"""A new visitor signs up, confirms the e-mail from the real SMTP server, signs in and out (production build)."""

from __future__ import annotations

import io
import json
import re
import zipfile

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.support.mailbox import link_in
from tests.support.servers import RunningPortal, SmtpInbox

PASSWORD = "a long and good passphrase"


def _sign_in(page: Page, portal: RunningPortal, identifier: str, password: str) -> None:
    page.goto(portal.url + "/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("#login-submit")


def test_signup_verify_login_logout(page: Page, portal: RunningPortal, inbox: SmtpInbox) -> None:
    page.goto(portal.url + "/")
    expect(page.locator("#landing-title")).to_be_visible()
    page.get_by_role("link", name="Get started").first.click()

    expect(page).to_have_url(re.compile(r"/signup/?$"))
    page.fill("#email", "newcomer@example.com")
    page.fill("#username", "newcomer")
    expect(page.locator("#username-available")).to_contain_text("newcomer.localhost is available")
    page.fill("#password", PASSWORD)
    page.click("#plan-free")
    page.click("#signup-submit")

    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.locator("#verify-banner")).to_contain_text("newcomer@example.com")
    expect(page.locator("#plan-name")).to_have_text("Free")
    page.click("#sign-out")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    _sign_in(page, portal, "newcomer", PASSWORD)  # refused until the address is confirmed
    expect(page.locator("#identifier-error")).to_contain_text("confirm your e-mail")

    link = link_in(inbox.wait_for("newcomer@example.com", "confirm"))
    assert link.startswith(portal.url + "/verify?token=")
    page.goto(link)
    expect(page.locator("#verify-result")).to_contain_text("newcomer@example.com is confirmed")
    page.goto(link)  # the link is single-use
    expect(page.locator("#verify-result")).to_contain_text("already been used")

    _sign_in(page, portal, "newcomer@example.com", "not the password")
    expect(page.locator("#password-error")).to_contain_text("not correct")

    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.locator("#verify-banner")).to_have_count(0)

    page.reload()  # the session survives a reload (server-side session, token in local storage)
    expect(page.locator("#plan-name")).to_have_text("Free")

    page.click("#sign-out")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(portal.url + "/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard"))

    page.fill("#identifier", "newcomer")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def test_signup_form_shows_errors_at_the_fields(page: Page, portal: RunningPortal) -> None:
    page.goto(portal.url + "/signup")
    page.fill("#username", "alice")  # a demo customer already has it
    expect(page.locator("#username-error")).to_contain_text("already taken")
    page.fill("#username", "-bad")
    expect(page.locator("#username-error")).to_contain_text("hyphen")

    page.fill("#email", "alice@example.com")
    page.fill("#username", "fresh-name")
    page.fill("#password", "short")
    page.click("#signup-submit")
    expect(page.locator("#email-error")).to_contain_text("already exists")
    expect(page.locator("#password-error")).to_contain_text("at least 10")
    expect(page).to_have_url(re.compile(r"/signup/?$"))


def test_password_reset_by_emailed_link(page: Page, portal: RunningPortal, inbox: SmtpInbox) -> None:
    page.goto(portal.url + "/reset")
    page.fill("#email", "bob@example.com")
    page.click("#reset-submit")
    expect(page.locator("#reset-requested")).to_be_visible()

    link = link_in(inbox.wait_for("bob@example.com", "reset"))
    page.goto(link)
    page.fill("#password", "a fresh secret phrase 42")
    page.fill("#confirm", "a fresh secret phrase 42")
    page.click("#reset-confirm-submit")
    expect(page).to_have_url(re.compile(r"/login/?$"))

    page.fill("#identifier", "bob")
    page.fill("#password", "a fresh secret phrase 42")
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))

    page.goto(link)  # used once already
    page.fill("#password", "yet another passphrase")
    page.fill("#confirm", "yet another passphrase")
    page.click("#reset-confirm-submit")
    expect(page.locator("#token-error")).to_contain_text("already been used")


def test_email_change_confirmed_from_the_new_inbox(page: Page, portal: RunningPortal, inbox: SmtpInbox) -> None:
    sign_up(page, portal.url, "mover")  # signed in on the dashboard
    page.goto(portal.url + "/account")
    page.fill("#new_email", "mover.moved@example.org")
    page.fill("#email_password", "not my password")
    page.click("#change-email-submit")
    expect(page.locator("#email_password-error")).to_contain_text("not correct")
    page.fill("#email_password", PASSWORD)
    page.click("#change-email-submit")
    expect(page.locator("#email-change-sent")).to_contain_text("mover.moved@example.org")

    page.goto(link_in(inbox.wait_for("mover.moved@example.org", "confirm your new")))
    expect(page.locator("#email-result")).to_contain_text("now mover.moved@example.org")
    undo = link_in(inbox.wait_for("mover@example.com", "was changed"))  # the old inbox is told, with a way back
    assert "/account/email/undo?token=" in undo


def test_the_person_downloads_their_data_then_deletes_the_account(page: Page, portal: RunningPortal) -> None:
    sign_up(page, portal.url, "leaving")
    page.goto(portal.url + "/account")
    with page.expect_download() as downloading:
        page.click("#export-data")
    download = downloading.value
    assert download.suggested_filename == "my-data.zip"
    with open(download.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert json.loads(archive.read("account.json"))["email"] == "leaving@example.com"

    page.fill("#delete_password", PASSWORD)
    page.click("#delete-account-submit")  # the box is not ticked: nothing happens but the reason
    expect(page.locator("#delete-confirm-error")).to_contain_text("cannot be undone")
    page.fill("#delete_password", "not my password")
    page.click("#delete-confirm")
    page.click("#delete-account-submit")
    expect(page.locator("#delete_password-error")).to_contain_text("not your password")
    page.fill("#delete_password", PASSWORD)
    page.click("#delete-account-submit")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#sign-out")).to_have_count(0)  # signed out here too, before going anywhere else
    page.goto(portal.url + "/login")
    page.fill("#identifier", "leaving@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#password-error")).to_be_visible()  # the account is gone
    expect(page).to_have_url(re.compile(r"/login"))
