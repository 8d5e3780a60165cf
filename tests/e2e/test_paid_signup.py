"""A visitor buys a paid plan: test-mode checkout, signed events through the real webhook route, dashboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.edge import PortalEdge
from tests.support.servers import RunningPortal

PASSWORD = "a long and good passphrase"


def _sign_up_for(page: Page, portal: RunningPortal, username: str, plan: str = "starter") -> None:
    page.goto(portal.url + "/pricing")
    page.locator(f"a[href='/signup?plan={plan}']").click()
    expect(page).to_have_url(re.compile(rf"/signup\?plan={plan}"))
    page.fill("#email", f"{username}@example.com")
    page.fill("#username", username)
    expect(page.locator("#username-available")).to_be_visible()
    page.fill("#password", PASSWORD)
    expect(page.locator(f"#plan-{plan}")).to_have_attribute("data-state", "checked")
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/billing/test-checkout\?session=cs_test_local_"))
    expect(page.locator("#test-mode")).to_contain_text("TEST MODE")


def test_paid_signup_pays_and_lands_on_an_active_dashboard(
    page: Page, portal: RunningPortal, front: PortalEdge | None
) -> None:
    _sign_up_for(page, portal, "payingcustomer")
    page.click("#pay")

    expect(page).to_have_url(re.compile(r"/billing/success\?session_id=cs_test_local_"))
    expect(page.locator("#paid")).to_contain_text("Payment received, your instance is being prepared")
    expect(page.locator("#checkout-sub-status")).to_have_text("active", timeout=30_000)

    page.click("#to-dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.locator("#subscription-status")).to_have_text("active")
    expect(page.locator("#plan-name")).to_have_text("Starter")
    expect(page.locator("#instance-status")).to_have_attribute(
        "data-status", re.compile(r"^(provisioning|running)$"), timeout=30_000
    )
    if front is None:  # no Caddy on this machine: the portal runs without an edge
        expect(page.locator("#instance-url")).to_have_text("http://payingcustomer.localhost")
        return
    # the link shown is the link that serves: HTTPS through the edge, trusted by the browser, the instance answers
    link = front.url("payingcustomer.localhost")
    expect(page.locator("#instance-url")).to_have_text(link)
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=60_000)
    with page.context.expect_page() as opened:
        page.click("#instance-url")
    instance = opened.value
    instance.wait_for_load_state()
    assert instance.url.startswith(link)
    response = instance.goto(link + "/health")
    assert response is not None and response.status == 200


def test_cancelled_checkout_can_be_tried_again_without_a_second_account(page: Page, portal: RunningPortal) -> None:
    _sign_up_for(page, portal, "secondthoughts")
    page.click("#cancel-checkout")
    expect(page).to_have_url(re.compile(r"/billing/cancel/?$"))
    page.click("#try-again")
    expect(page).to_have_url(re.compile(r"/billing/test-checkout\?session=cs_test_local_"))
    page.click("#pay")
    expect(page.locator("#checkout-sub-status")).to_have_text("active", timeout=30_000)
    page.goto(portal.url + "/dashboard")
    expect(page.locator("#subscription-status")).to_have_text("active")
