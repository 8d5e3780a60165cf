"""A reseller's customer who pays on the reseller's domain comes back from checkout (paid or cancelled) and from
the billing portal to that same domain, still signed in, under that brand: on two resellers' hosts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD
from tests.support.servers import RunningPortal


def _on(portal: RunningPortal, host: str, path: str = "") -> str:
    return portal.url.replace("localhost", host, 1) + path


@pytest.mark.parametrize(
    "host,plan,brand,username",
    [
        ("acme.localhost", "acme-basic", "Acme Cloud", "acmepayer"),
        ("beta.localhost", "beta-pro", "Beta Hosting", "betapayer"),
    ],
)
def test_every_return_from_checkout_and_billing_lands_on_the_same_host_signed_in(
    page: Page, portal: RunningPortal, host: str, plan: str, brand: str, username: str
) -> None:
    here = re.escape(_on(portal, host))
    page.goto(_on(portal, host, f"/signup?plan={plan}"))
    expect(page.locator("#brand-name")).to_have_text(brand)
    page.fill("#email", f"{username}@example.com")
    page.fill("#username", username)
    expect(page.locator("#username-available")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(rf"^{here}/billing/test-checkout\?session=cs_test_local_"))
    expect(page.locator("#brand-name")).to_have_text(brand)

    page.click("#cancel-checkout")  # the cancel_url Stripe would use
    expect(page).to_have_url(re.compile(rf"^{here}/billing/cancel/?$"))
    expect(page.locator("#brand-name")).to_have_text(brand)
    page.click("#try-again")  # only works signed in: the session survived the round trip
    expect(page).to_have_url(re.compile(rf"^{here}/billing/test-checkout\?session=cs_test_local_"))

    page.click("#pay")  # the success_url Stripe would use
    expect(page).to_have_url(re.compile(rf"^{here}/billing/success\?session_id=cs_test_local_"))
    expect(page.locator("#brand-name")).to_have_text(brand)
    expect(page.locator("#checkout-sub-status")).to_have_text("active", timeout=30_000)
    page.click("#to-dashboard")
    expect(page).to_have_url(re.compile(rf"^{here}/dashboard/?$"))  # signed in: no detour to /login
    expect(page.locator("#subscription-status")).to_have_text("active")
    expect(page.locator("#brand-name")).to_have_text(brand)

    page.click("#manage-billing")  # Stripe's billing portal, returning to the same host
    expect(page).to_have_url(re.compile(rf"^{here}/billing/test-portal\?customer="))
    expect(page.locator("#brand-name")).to_have_text(brand)
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(re.compile(rf"^{here}/dashboard/?$"))
    expect(page.locator("#subscription-status")).to_have_text("active")
