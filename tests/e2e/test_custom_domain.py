"""A customer puts their instance on their own domain: the dashboard names the records to create, they create
them (in the test's DNS server), the status goes step by step to "Serving", and the browser opens the instance
over HTTPS on that name without a certificate warning."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD
from tests.support.edge import PortalEdge
from tests.support.servers import RunningPortal

HOST = "shop.example.org"


def _pay_for_starter(page: Page, portal: RunningPortal, username: str) -> None:
    page.goto(portal.url + "/signup?plan=starter")
    page.fill("#email", f"{username}@example.com")
    page.fill("#username", username)
    expect(page.locator("#username-available")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/billing/test-checkout\?session=cs_test_local_"))
    page.click("#pay")
    expect(page.locator("#checkout-sub-status")).to_have_text("active", timeout=30_000)
    page.click("#to-dashboard")
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=60_000)


def test_a_customer_proves_a_domain_and_reaches_the_instance_over_https_on_it(
    page: Page, portal: RunningPortal, front: PortalEdge | None
) -> None:
    if front is None:
        pytest.skip("Caddy is not installed: no edge serves custom domains here")
    _pay_for_starter(page, portal, "domainowner")
    page.fill("#domain-hostname", "not a domain")
    page.click("#domain-add")
    expect(page.locator("#domain-error")).to_contain_text("host name")

    page.fill("#domain-hostname", HOST)
    page.click("#domain-add")
    card = page.locator(".custom-domain")
    expect(card.locator(".domain-hostname")).to_have_text(HOST)
    expect(card).to_contain_text("Waiting for DNS")
    rows = card.get_by_role("row")
    expect(rows).to_have_count(3)  # header, TXT, CNAME
    txt_value = rows.nth(1).get_by_role("cell").nth(2).inner_text()
    assert txt_value.startswith("portal-verify=")
    assert rows.nth(2).get_by_role("cell").nth(2).inner_text() == "domainowner.localhost"
    expect(page.locator("#domain-add")).to_have_count(0)  # the Starter plan allows one domain

    front.zone.txt[f"_portal-challenge.{HOST}"] = txt_value  # what the customer does at their DNS provider
    front.zone.a["domainowner.localhost"] = "127.0.0.1"
    front.zone.cname[HOST] = "domainowner.localhost"
    front.zone.apply()
    card.get_by_role("button", name=f"Check {HOST} now").click()
    expect(card).to_contain_text("Serving", timeout=45_000)
    expect(card.get_by_role("row")).to_have_count(0)  # nothing left to create
    link = front.url(HOST)
    expect(card.get_by_role("link")).to_have_text(link)

    response = page.goto(link + "/health")
    assert response is not None and response.status == 200
    assert response.security_details() is not None  # HTTPS, trusted without a warning (a warning raises here)

    page.goto(portal.url + "/dashboard")
    card.get_by_role("button", name=f"Remove {HOST}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.locator(".custom-domain")).to_have_count(0)
