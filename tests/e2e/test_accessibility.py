"""axe-core on the portal's pages, signed out (light and dark), as a new customer, as platform staff on every
console tab, and as a reseller's customer and staff under the reseller's brand in dark mode and German: no WCAG
2.1 A or AA violation (issue: a portal everyone can use, item 1)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import SCRIPTS_WITH_THE_PAGE, assert_accessible, sign_in, sign_out, sign_up
from tests.support.servers import RunningPortal

PUBLIC = ("/", "/pricing", "/signup", "/login")
CUSTOMER = ("/dashboard", "/account", "/billing", "/team", "/backups", "/developers")
CONSOLE_TABS = ("customers", "provisioning", "webhooks", "people", "resellers", "plans", "licences", "servers", "audit")
OPERATOR = ("admin@example.com", "demo-password-123")  # seeded demo login (DEMO_PASSWORD default)


def _toggle_colour_mode(page: Page) -> None:
    page.get_by_role("button", name="Switch between light and dark mode").click()


def test_public_pages_in_light_and_dark_mode(page: Page, portal: RunningPortal) -> None:
    for path in PUBLIC:
        page.goto(portal.url + path)
        assert_accessible(page, f"{path} (light)")
    _toggle_colour_mode(page)
    for path in PUBLIC:
        page.goto(portal.url + path)
        assert_accessible(page, f"{path} (dark)")
    _toggle_colour_mode(page)


def test_a_new_customers_pages(page: Page, portal: RunningPortal) -> None:
    sign_up(page, portal.url, "a11ycustomer", plan="free")
    status = page.locator("#instance-status")  # its changes are announced: a polite live region
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    for path in CUSTOMER:
        page.goto(portal.url + path)
        assert_accessible(page, path)
    sign_out(page)


def test_every_console_tab_and_the_branding_editor_as_platform_staff(page: Page, portal: RunningPortal) -> None:
    sign_in(page, portal.url, *OPERATOR)
    page.goto(portal.url + "/admin")
    assert_accessible(page, "/admin overview")
    for tab in CONSOLE_TABS:
        page.click(f"#tab-{tab}")
        assert_accessible(page, f"/admin {tab}")
    page.goto(portal.url + "/admin/branding")
    assert_accessible(page, "/admin/branding")


def test_the_public_pages_under_reseller_brands_whose_accents_white_cannot_be_read_on(
    page: Page, portal: RunningPortal
) -> None:
    """Acme chose crimson and Beta grass: white on either is under 4.5:1, so their buttons write dark text."""
    for host in ("acme.localhost", "beta.localhost"):
        for path in PUBLIC:
            page.goto(portal.url.replace("localhost", host, 1) + path)
            assert_accessible(page, f"{host}{path}")


def test_the_branding_editor_warns_of_an_accent_white_text_cannot_be_read_on(page: Page, portal: RunningPortal) -> None:
    sign_in(page, portal.url, *OPERATOR)
    page.goto(portal.url + "/admin/branding")
    page.click("#brand-accent_color")
    page.get_by_role("option", name="crimson").click()
    expect(page.locator("#accent-warning")).to_contain_text("White text on crimson reaches only")
    page.click("#brand-accent_color")
    page.get_by_role("option", name="indigo").click()
    expect(page.locator("#accent-warning")).to_have_count(0)


RESELLER_TABS = ("customers", "provisioning", "people", "plans", "audit")


def test_signed_in_pages_in_dark_mode_under_a_resellers_brand_and_in_german(
    browser: Browser, portal: RunningPortal
) -> None:
    """A customer and the reseller's own staff on Beta's host (grass, which white text cannot be read on), in dark
    mode and German."""
    beta = portal.url.replace("localhost", "beta.localhost", 1)
    context = browser.new_context(locale="de-DE", color_scheme="dark")
    context.add_init_script(SCRIPTS_WITH_THE_PAGE)
    try:
        page = context.new_page()
        sign_up(page, beta, "a11ybeta", plan="beta-free")
        expect(page.locator("#sign-out")).to_have_text("Abmelden")  # German, from the browser
        for path in CUSTOMER:
            page.goto(beta + path)
            assert_accessible(page, f"beta {path} (dark, de)")
        page.locator("#sign-out").click()
        sign_in(page, beta, "owner@beta.example.com", "demo-password-123")
        page.goto(beta + "/admin")
        assert_accessible(page, "beta /admin overview (dark, de)")
        for tab in RESELLER_TABS:
            page.click(f"#tab-{tab}")
            assert_accessible(page, f"beta /admin {tab} (dark, de)")
        page.goto(beta + "/admin/branding")
        assert_accessible(page, "beta /admin/branding (dark, de)")
    finally:
        context.close()
