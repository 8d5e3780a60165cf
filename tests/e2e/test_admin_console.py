"""The platform operator retries a parked provisioning action and replays a webhook event from the console."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.servers import RunningPortal

OPERATOR = ("admin@example.com", "demo-password-123")  # seeded demo login (DEMO_PASSWORD default)


def _sql(portal: RunningPortal, statement: str, **params: object) -> list[tuple]:
    engine = create_engine(portal.database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _sign_in(page: Page, portal: RunningPortal, identifier: str, password: str) -> None:
    page.goto(portal.url + "/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def test_customer_cannot_open_the_console(page: Page, portal: RunningPortal) -> None:
    _sign_in(page, portal, "alice@example.com", OPERATOR[1])
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(portal.url + "/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#actions-table")).to_have_count(0)


def test_operator_retries_a_parked_action_and_replays_an_event(page: Page, portal: RunningPortal) -> None:
    (instance_id,) = _sql(portal, "SELECT id FROM instance WHERE subdomain = 'bob'")[0]
    _sql(portal, "INSERT INTO provisioning_action (id, instance_id, action, status, failures, last_error, "
                 "requested_by, params, created_at) VALUES ('e2e-parked', :i, 'restart', 'parked', 5, "
                 "'engine unreachable', 'test', '{}', CURRENT_TIMESTAMP)", i=instance_id)
    _sql(portal, "INSERT INTO stripe_event (stripe_id, type, payload, status, attempts, received_at) VALUES "
                 "('evt_e2e_replay', 'customer.updated', '{\"data\": {\"object\": {}}}', 'ignored', 1, "
                 "CURRENT_TIMESTAMP)")

    _sign_in(page, portal, *OPERATOR)
    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/?$"))
    expect(page.locator("#integrations")).to_contain_text("Coolify: not configured")  # no COOLIFY_URL here

    parked = page.locator("tr[data-action='e2e-parked']")
    expect(parked).to_contain_text("engine unreachable")
    parked.locator(".retry-action").click()
    expect(parked).to_have_count(0)  # gone from the parked list
    status, requested_by = _sql(portal, "SELECT status, requested_by FROM provisioning_action "
                                        "WHERE id = 'e2e-parked'")[0]
    assert "retried by admin@example.com" in requested_by
    # A new round began: still waiting or running, or it already ran again (the consumer may be that quick,
    # and on this engine bob's restart can fail for good and park once more), which leaves recorded attempts.
    (attempts,) = _sql(portal, "SELECT count(*) FROM provisioning_step WHERE action_id = 'e2e-parked'")[0]
    assert status != "parked" or attempts > 0

    event = page.locator("tr[data-event='evt_e2e_replay']")
    expect(event).to_contain_text("customer.updated")
    event.locator(".replay-event").click()
    for _ in range(50):
        if _sql(portal, "SELECT attempts FROM stripe_event WHERE stripe_id = 'evt_e2e_replay'")[0][0] == 2:
            break
        page.wait_for_timeout(200)
    assert _sql(portal, "SELECT attempts FROM stripe_event WHERE stripe_id = 'evt_e2e_replay'")[0][0] == 2
    audit = _sql(portal, "SELECT action FROM audit_event WHERE actor_label = 'admin@example.com' "
                         "AND action IN ('provisioning_action.retry', 'webhook_event.replay')")
    assert sorted(a for (a,) in audit) == ["provisioning_action.retry", "webhook_event.replay"]
