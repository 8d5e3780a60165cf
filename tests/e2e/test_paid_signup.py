"""A visitor buys a paid plan: test-mode checkout, signed events through the real webhook route, dashboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
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
    expect(page.locator("#checkout-plan")).not_to_be_empty()  # the plan's name and price, never a price id
    expect(page.locator("#checkout-amount")).to_contain_text(" / month")


def test_paid_signup_pays_and_lands_on_an_active_dashboard(
    page: Page, portal: RunningPortal, front: PortalEdge | None
) -> None:
    _sign_up_for(page, portal, "payingcustomer")
    expect(page.locator("#checkout-plan")).to_have_text("Starter")
    expect(page.locator("#checkout-amount")).to_have_text("$19 / month")
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


def test_billing_page_shows_the_invoice_and_cancels_and_downgrades_only_after_saying_when(
    page: Page, portal: RunningPortal
) -> None:
    _sign_up_for(page, portal, "billingpage", plan="pro")
    page.click("#pay")
    expect(page.locator("#checkout-sub-status")).to_have_text("active", timeout=30_000)
    page.goto(portal.url + "/dashboard")
    page.click("#billing-link")
    expect(page).to_have_url(re.compile(r"/billing/?$"))
    invoices = page.locator("#invoices")
    expect(invoices).to_contain_text("$49")
    expect(invoices).to_contain_text("Paid")
    expect(page.locator("#upcoming-invoice")).to_contain_text("$49 on ")
    # the invoice opens as a page of its own, in the seller's name
    with page.context.expect_page() as opened:
        invoices.get_by_role("link", name=re.compile("^View invoice ")).click()
    invoice = opened.value
    invoice.wait_for_load_state()
    expect(invoice.locator("h1")).to_contain_text("Invoice ")
    expect(invoice.locator("body")).to_contain_text("$49")
    invoice.close()

    page.click("#cancel-subscription")
    expect(page.get_by_role("alertdialog")).to_contain_text("Nothing more is charged")
    page.click("#confirm-cancel-subscription")
    expect(page.locator("#cancel-scheduled")).to_contain_text("your subscription ends on")
    expect(page.locator("#upcoming-invoice")).to_have_count(0)
    page.click("#resume-subscription")
    page.click("#confirm-resume-subscription")
    expect(page.locator("#cancel-subscription")).to_be_visible()

    page.click("#downgrade-starter")
    expect(page.get_by_role("alertdialog")).to_contain_text("You keep Pro and its limits until")
    page.click("#confirm-downgrade-starter")
    expect(page.locator("#downgrade-scheduled")).to_contain_text("your plan becomes Starter")
    expect(page.locator("#billing-plan")).to_have_text("Pro")
    expect(page.locator("#upcoming-invoice")).to_contain_text("$19 on ")
    page.click("#undo-downgrade")
    expect(page.locator("#downgrade-scheduled")).to_have_count(0)
    expect(page.locator("#upcoming-invoice")).to_contain_text("$49 on ")


def test_a_free_instance_is_deleted_by_its_owner_once_its_name_is_typed(page: Page, portal: RunningPortal) -> None:
    sign_up(page, portal.url, "deletesfree", plan="free")
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=60_000)
    page.goto(portal.url + "/billing")
    page.click("#delete-instance")
    expect(page.get_by_role("alertdialog")).to_contain_text("This cannot be undone")
    page.click("#confirm-delete-instance")  # without typing the name: nothing happens but the reason
    expect(page.locator("#confirm-error")).to_contain_text("Type deletesfree to confirm")
    page.click("#delete-instance")
    page.fill("#confirm-name", "deletesfree")
    page.click("#confirm-delete-instance")
    expect(page.locator("#delete-instance")).to_have_count(0)
    page.goto(portal.url + "/dashboard")
    expect(page.locator("#instance-status")).to_have_attribute(
        "data-status", re.compile(r"^(deprovisioning|deprovisioned)$"), timeout=60_000
    )
