"""A reseller owner changes the brand with a live preview; bad CSS is refused at the field; the portal shows it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import SCRIPTS_WITH_THE_PAGE, sign_in
from tests.support.servers import RunningPortal

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201e226059b0000000049454e44ae426082"
)


def test_owner_edits_the_brand_with_a_live_preview_and_the_host_shows_it(page: Page, portal: RunningPortal) -> None:
    beta = portal.url.replace("localhost", "beta.localhost", 1)
    sign_in(page, beta, "owner@beta.example.com", "demo-password-123")
    page.goto(beta + "/admin")
    page.click("#to-branding")
    expect(page).to_have_url(re.compile(r"/admin/branding/?$"))
    name = page.locator("#brand-platform_name")
    expect(name).to_have_value("Beta Hosting")

    expect(page.locator(".brand-domain")).to_have_text(["beta.localhost"])
    page.fill("#domain-input", "shop.beta.localhost")
    page.click("#domain-add")
    expect(page.locator("#hostname-error")).to_contain_text("where the platform's instances live")
    page.fill("#domain-input", "portal.beta.example")
    page.click("#domain-add")
    expect(page.locator("#hostname-error")).to_contain_text("does not cover")  # Beta's licence

    name.fill("Beta Hosting Plus")
    expect(page.locator("#preview-name")).to_have_text("Beta Hosting Plus")  # before anything is saved
    page.locator("#brand-custom_css").fill("body { color: red } </style><script>alert(1)</script>")
    page.click("#brand-save")
    expect(page.locator("#custom_css-error")).to_contain_text("must not contain")
    page.goto(beta + "/")
    expect(page.locator("#brand-name")).to_have_text("Beta Hosting")  # the refused save changed nothing

    page.goto(beta + "/admin/branding")
    page.locator("#brand-platform_name").fill("Beta Hosting Plus")
    page.locator("#brand-custom_css").fill("#brand-name { letter-spacing: 0.05em }")
    page.locator("#logo-upload input[type=file]").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(page.locator("#brand-preview img")).to_be_visible()
    page.locator("#favicon-upload input[type=file]").set_input_files(
        files=[{"name": "icon.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(page.locator("#favicon-preview")).to_be_visible()
    page.click("#brand-save")
    expect(page.get_by_text("Brand saved.")).to_be_visible()  # saved before the page is left
    page.goto(beta + "/")
    expect(page.locator("#brand-name")).to_have_text("Beta Hosting Plus")
    expect(page.locator("#brand-logo")).to_be_visible()
    expect(page.locator("link[rel='icon']")).to_have_attribute("href", re.compile(r"/api/brand-assets/.+\.png$"))
    assert page.evaluate("getComputedStyle(document.querySelector('#brand-name')).letterSpacing") != "normal"

    page.goto(beta + "/admin/branding")
    page.locator("#email-template").click()
    page.get_by_role("option", name="welcome", exact=True).click()
    page.locator("#email-subject").fill("Welcome to {{ brand_name }}, {{ no_such_variable }}")
    page.click("#email-save")
    expect(page.locator("#email_subject-error")).to_contain_text("does not render")
    page.locator("#email-subject").fill("Welcome aboard {{ brand_name }}")
    page.click("#email-save")
    expect(page.locator("#email_subject-error")).to_have_count(0)
    page.reload()
    expect(page.locator("#email-subject")).to_have_value("Welcome aboard {{ brand_name }}")  # stored
    page.locator("#email-subject").fill("")  # the built-in welcome again, for the other tests
    page.click("#email-save")

    page.goto(beta + "/admin/branding")  # put the demo brand back for the other tests of this session
    page.locator("#brand-platform_name").fill("Beta Hosting")
    page.locator("#brand-custom_css").fill("")
    page.click("#brand-save")
    page.goto(beta + "/")
    expect(page.locator("#brand-name")).to_have_text("Beta Hosting")


def test_an_accepted_stylesheet_loads_nothing_from_another_origin(page: Page, portal: RunningPortal) -> None:
    """The seller's own image and a data: image may be used; the browser then asks no origin but the portal's."""
    acme = portal.url.replace("localhost", "acme.localhost", 1)
    sign_in(page, acme, "owner@acme.example.com", "demo-password-123")
    page.goto(acme + "/admin/branding")
    page.locator("#logo-upload input[type=file]").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(page.locator("#brand-preview img")).to_be_visible()
    logo = page.locator("#brand-preview img").get_attribute("src") or ""
    assert logo.startswith("/api/brand-assets/")

    css = page.locator("#brand-custom_css")
    for outside in (
        "body { background: url(https://tracker.example/p.png) }",
        "body { background: url(//tracker.example/p.png) }",
        "@\\69mport 'https://tracker.example/x.css';",
    ):
        css.fill(outside)
        page.click("#brand-save")
        expect(page.locator("#custom_css-error")).to_be_visible()
    css.fill(
        f"body {{ background-image: url({logo}) }} "
        "#brand-name { background-image: url(data:image/png;base64,iVBORw0KGgo=) }"
    )
    page.click("#brand-save")
    expect(page.locator("#custom_css-error")).to_have_count(0)

    origin = re.match(r"^(https?://[^/]+)", acme).group(1)  # type: ignore[union-attr]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(acme + "/pricing")
    expect(page.locator("#brand-name")).to_have_text("Acme Cloud")
    page.wait_for_function(f"getComputedStyle(document.body).backgroundImage.includes({logo!r})")
    page.wait_for_load_state("networkidle")
    foreign = [
        url
        for url in requested
        if not url.startswith((origin + "/", "data:", "ws://", "blob:"))
        and not url.startswith(origin.replace("http", "ws", 1))
    ]
    assert foreign == [] and any(logo in url for url in requested)

    page.goto(acme + "/admin/branding")  # the demo brand again, for the other tests
    page.locator("#brand-custom_css").fill("")
    page.click("#brand-save")


def test_a_seller_puts_its_own_words_in_each_language(page: Page, portal: RunningPortal, browser: Browser) -> None:
    """The owner replaces "Sign in" in German only; a German visitor of the seller's portal reads it, an English
    one reads the built-in text, and the platform's own portal is untouched."""
    acme = portal.url.replace("localhost", "acme.localhost", 1)
    sign_in(page, acme, "owner@acme.example.com", "demo-password-123")
    page.goto(acme + "/admin/branding")
    page.locator("#word-language").click()
    page.get_by_role("option", name="Deutsch").click()
    page.fill("#word-text", "A text the portal never shows")
    page.fill("#word-replacement", "Egal")
    page.click("#word-save")
    expect(page.locator("#word_text-error")).to_be_visible()  # only the portal's own texts
    page.fill("#word-text", "Sign in")
    page.fill("#word-replacement", "Bei Acme einloggen")
    page.click("#word-save")
    expect(page.locator("#words-table")).to_contain_text("Bei Acme einloggen")

    german = browser.new_context(locale="de-DE")
    german.add_init_script(SCRIPTS_WITH_THE_PAGE)
    english = browser.new_context(locale="en-US")
    english.add_init_script(SCRIPTS_WITH_THE_PAGE)
    try:
        visitor = german.new_page()
        visitor.goto(acme + "/login")
        expect(visitor.locator("#login-submit")).to_have_text("Bei Acme einloggen")
        expect(visitor.get_by_text("Passwort vergessen?")).to_be_visible()  # the rest: built-in German
        visitor.goto(portal.url + "/login")
        expect(visitor.locator("#login-submit")).to_have_text("Anmelden")  # another seller's portal
        other = english.new_page()
        other.goto(acme + "/login")
        expect(other.locator("#login-submit")).to_have_text("Sign in")
    finally:
        german.close()
        english.close()

    page.locator("#words-table").get_by_role("button", name="Use the built-in text").click()
    expect(page.locator("#words-table")).to_have_count(0)  # back to the built-in text, for the other tests
