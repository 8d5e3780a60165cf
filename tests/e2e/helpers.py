"""Steps the browser tests share: a visitor signs up on a plan, a person signs in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PASSWORD = "a long and good passphrase"


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
