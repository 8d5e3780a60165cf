"""A reseller automates, as a new user would: creates a token and a webhook endpoint on /developers, creates a
customer through the API, hears `customer.created` and `instance.provisioned` on its endpoint (verified with
standardwebhooks), and reads the new instance through the API."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in
from tests.support.receiver import receiver
from tests.support.servers import RunningPortal


def test_a_reseller_creates_a_customer_through_the_api_and_hears_of_it(page: Page, portal: RunningPortal) -> None:
    beta = portal.url.replace("localhost", "beta.localhost", 1)
    sign_in(page, beta, "owner@beta.example.com", "demo-password-123")
    page.goto(beta + "/developers")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.fill("#token-name", "shop")
    for scope in ("customers:write", "customers:read", "instances:read", "usage:read"):
        page.get_by_role("checkbox", name=scope).click()
    page.click("#create-token")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("pat_")

    with receiver() as hooks:
        page.fill("#endpoint-url", hooks.url)
        for event in ("customer.created", "instance.provisioned"):
            page.get_by_role("checkbox", name=event).click()
        page.click("#add-endpoint")
        hooks.secrets.append(page.locator("#new-secret").inner_text())
        expect(page.locator("#endpoints")).to_contain_text(hooks.url)

        api = httpx.Client(base_url=portal.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        made = api.post(
            "/customers",
            json={"email": "api.buyer@example.com", "username": "apibuyer", "plan": "beta-free"},
            headers={"Idempotency-Key": "order-1001"},
        )
        assert made.status_code == 201, made.text
        instance_id = made.json()["instance"]["id"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and {"customer.created", "instance.provisioned"} - {
            r["type"] for r in hooks.received
        }:
            time.sleep(0.5)
        assert {r["type"] for r in hooks.received} >= {"customer.created", "instance.provisioned"}, hooks.received
        assert hooks.rejected == []
        again = api.post(  # the shop's retry of the same order: the first answer, nothing created twice
            "/customers",
            json={"email": "api.buyer@example.com", "username": "apibuyer", "plan": "beta-free"},
            headers={"Idempotency-Key": "order-1001"},
        )
        assert again.status_code == 201 and again.json() == made.json()

    assert api.get(f"/instances/{instance_id}").json()["status"] == "running"
    usage = api.get(f"/instances/{instance_id}/usage")
    assert usage.status_code == 200 and usage.json() == {"items": [], "next_cursor": None}
    page.reload()
    page.locator("#endpoints").get_by_role("button", name="Delivery log").first.click()
    expect(page.locator("#deliveries")).to_contain_text("instance.provisioned")
