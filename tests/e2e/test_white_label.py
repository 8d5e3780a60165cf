"""Two resellers on two host names, one deployment: each host shows its own brand before and after sign-in,
never the platform's first, and sign-ups there land in that reseller's tree with its plans."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, sign_up, sql
from tests.support.servers import RunningPortal


def _on(portal: RunningPortal, host: str, path: str = "") -> str:
    return portal.url.replace("localhost", host, 1) + path


def test_each_host_shows_its_own_brand_before_and_after_sign_in(page: Page, portal: RunningPortal) -> None:
    page.goto(_on(portal, "acme.localhost"))
    expect(page.locator("#brand-name")).to_have_text("Acme Cloud")
    expect(page.locator("#brand-shell")).to_be_visible()
    assert page.locator(".radix-themes[data-accent-color='crimson']").count() >= 1
    expect(page.locator("#powered-by")).to_contain_text("Portal")

    page.goto(_on(portal, "beta.localhost"))
    expect(page.locator("#brand-name")).to_have_text("Beta Hosting")
    assert page.locator(".radix-themes[data-accent-color='grass']").count() >= 1
    expect(page.locator("#brand-footer")).to_contain_text("small, fast, friendly")
    expect(page.locator("#powered-by")).to_have_count(0)  # Beta hides the platform's name

    page.goto(portal.url)
    expect(page.locator("#brand-name")).to_have_text("Portal")

    # Prerendered HTML carries no brand at all, so nothing flashes before the host's brand is known.
    raw = httpx.get(
        portal.url.replace("localhost", "127.0.0.1", 1), headers={"Host": "acme.localhost"}, timeout=10
    ).text
    assert 'id="brand-name"' not in raw and "Acme" not in raw

    page.goto(_on(portal, "acme.localhost", "/pricing"))
    expect(page.get_by_text("Acme Basic", exact=True)).to_be_visible()
    expect(page.get_by_text("Starter", exact=True)).to_have_count(0)  # the platform's own plans are not sold here

    sign_in(
        page,
        _on(portal, "acme.localhost"),
        "owner@acme.example.com",  # bob's password: another test's
        "demo-password-123",
    )
    expect(page.locator("#brand-name")).to_have_text("Acme Cloud")
    page.reload()
    expect(page.locator("#brand-name")).to_have_text("Acme Cloud")


def test_a_signup_on_a_resellers_domain_lands_in_its_tree(page: Page, portal: RunningPortal) -> None:
    sign_up(page, _on(portal, "beta.localhost"), "betanewcomer", plan="beta-free")
    expect(page.locator("#brand-name")).to_have_text("Beta Hosting")
    expect(page.locator("#plan-name")).to_have_text("Beta Free")

    parent = sql(
        portal,
        "SELECT p.slug FROM organization c JOIN organization p ON p.id = c.parent_id WHERE c.slug = 'betanewcomer'",
    )
    assert parent == [("beta",)]
