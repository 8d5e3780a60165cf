"""A customer's dashboard against the real Docker backend: running instance, restart, usage, budget alert."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.support.servers import RunningPortal, SmtpInbox

USERNAME = "dashcustomer"


@pytest.fixture()
def on_docker(request: pytest.FixtureRequest) -> None:
    """The portal of these tests runs instances only where our Docker engine is (REQUIRE_DOCKER=1 in CI)."""
    request.getfixturevalue("dockerd")


def test_customer_restarts_the_instance_posts_usage_and_crosses_80_percent(
    page: Page, portal: RunningPortal, inbox: SmtpInbox, on_docker: None
) -> None:
    sign_up(page, portal.url, USERNAME, plan="free")  # $1 of included budget

    status = page.locator("#instance-status")
    expect(status).to_have_attribute("data-status", "running", timeout=90_000)  # follows by itself, no reload
    expect(page.locator("#no-usage")).to_be_visible()
    expect(page.locator("#ai-models")).to_contain_text("gpt-4o-mini")  # what the plan allows through the gateway

    page.click("#restart-instance")
    page.click("#confirm-restart")
    expect(status).to_have_attribute("data-status", "restarting", timeout=10_000)
    expect(page.locator("#restart-instance")).to_be_disabled()  # no second action while one runs
    expect(status).to_have_attribute("data-status", "running", timeout=60_000)
    expect(page.locator("#restart-instance")).to_be_enabled()

    page.click("#reset-admin-password")  # a new admin password, applied by redeploying, shown once
    page.click("#confirm-reset-admin-password")
    expect(page.locator("#new-admin-password")).not_to_be_empty()
    expect(status).to_have_attribute("data-status", "running", timeout=60_000)

    page.click("#show-logs")
    expect(page.locator("#instance-logs")).to_be_visible()

    page.click("#rotate-token")
    expect(page.get_by_role("alertdialog")).to_contain_text("stops working at once")  # said before it happens
    page.click("#confirm-rotate-token")
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("pit_")
    now = datetime.now(UTC).isoformat()
    records = [
        {"id": f"e2e-{n}", "model": "gpt-e2e", "tokens_in": 1000, "tokens_out": 200, "cost": "0.17", "occurred_at": now}
        for n in range(5)
    ]  # $0.85 of $1: past 50 % and 80 %
    answer = httpx.post(
        portal.url + "/api/v1/usage",
        json={"records": records},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 5
    assert (
        httpx.post(
            portal.url + "/api/v1/usage",
            json={"records": records},  # a retried batch counts once
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["duplicates"]
        == 5
    )

    page.reload()
    expect(page.locator("#budget-percent")).to_have_text("85 %")
    expect(page.locator("#budget-summary")).to_contain_text("Used $0.85 of $1")
    expect(page.locator("#budget-banner")).to_contain_text("85 % of your budget")
    expect(page.locator("#cost-chart")).to_contain_text("gpt-e2e")  # the chart's legend names the model
    expect(page.locator("#cost-chart .recharts-bar-rectangle").first).to_be_visible()
    expect(page.locator("#usage-totals")).to_contain_text("0.8500")
    expect(page.locator(".usage-record")).to_have_count(5)

    mail = inbox.wait_for(f"{USERNAME}@example.com", "80 %")
    assert "no longer use paid models" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
