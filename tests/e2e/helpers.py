"""Steps the browser tests share: a visitor signs up on a plan, a person signs in, a look into the portal's
database (what the page shows is checked against it)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.support.servers import RunningPortal

# the browser suite starts a page's scripts as it parses (portal/paint_first.py); contexts a test makes add it too
SCRIPTS_WITH_THE_PAGE = "window.__portal_paint_first = false"

PASSWORD = "a long and good passphrase"


def sql(portal: RunningPortal, statement: str, **params: object) -> list[tuple]:
    """Run one statement on the running portal's database (SQLite or PostgreSQL); its rows, if any."""
    engine = create_engine(portal.database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def sign_up(page: Page, base_url: str, username: str, plan: str = "free", password: str = PASSWORD) -> None:
    """Through the sign-up form on `base_url` (a reseller's host name sells its own plans); lands on the dashboard."""
    page.goto(base_url + "/signup")
    page.fill("#email", f"{username}@example.com")
    page.fill("#username", username)
    expect(page.locator("#username-available")).to_be_visible()
    page.fill("#password", password)
    page.click(f"#plan-{plan}")
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def sign_in(page: Page, base_url: str, identifier: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def sign_out(page: Page) -> None:
    """Click "Sign out" and wait until the page says so (navigating at once could race the token's removal)."""
    page.click("#sign-out")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page: Page, where: str) -> None:
    """axe-core (axe-playwright-python) finds no WCAG 2.1 A or AA violation on what the page shows now."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("networkidle")
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    described = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in found]
    assert described == [], f"{where}: {described}"
