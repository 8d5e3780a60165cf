"""The platform operator retries a parked provisioning action and replays a webhook event from the console."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, sign_out, sign_up
from tests.e2e.helpers import sql as _sql
from tests.support.servers import RunningPortal

OPERATOR = ("admin@example.com", "demo-password-123")  # seeded demo login (DEMO_PASSWORD default)


def _sign_in(page: Page, portal: RunningPortal, identifier: str, password: str) -> None:
    sign_in(page, portal.url, identifier, password)


def test_customer_cannot_open_the_console(page: Page, portal: RunningPortal) -> None:
    _sign_in(page, portal, "alice@example.com", OPERATOR[1])
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(portal.url + "/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#actions-table")).to_have_count(0)


def test_operator_retries_a_parked_action_and_replays_an_event(page: Page, portal: RunningPortal) -> None:
    (instance_id,) = _sql(portal, "SELECT id FROM instance WHERE subdomain = 'bob'")[0]
    _sql(
        portal,
        "INSERT INTO provisioning_action (id, instance_id, action, status, failures, last_error, "
        "requested_by, params, created_at) VALUES ('e2e-parked', :i, 'restart', 'parked', 5, "
        "'engine unreachable', 'test', '{}', CURRENT_TIMESTAMP)",
        i=instance_id,
    )
    _sql(
        portal,
        "INSERT INTO stripe_event (stripe_id, type, payload, status, attempts, received_at) VALUES "
        "('evt_e2e_replay', 'customer.updated', '{\"data\": {\"object\": {}}}', 'ignored', 1, "
        "CURRENT_TIMESTAMP)",
    )

    _sign_in(page, portal, *OPERATOR)
    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/?$"))
    expect(page.locator("#integrations")).to_contain_text("Coolify: not configured")  # no COOLIFY_URL here

    expect(page.locator("#overview-parked")).to_have_text(re.compile(r"^[1-9]"))  # the overview counts it
    page.click("#tab-provisioning")
    parked = page.locator("tr[data-action='e2e-parked']")
    expect(parked).to_contain_text("engine unreachable")
    parked.locator(".retry-action").click()
    expect(parked).to_have_count(0)  # gone from the parked list
    status, requested_by = _sql(portal, "SELECT status, requested_by FROM provisioning_action WHERE id = 'e2e-parked'")[
        0
    ]
    assert "retried by admin@example.com" in requested_by
    # A new round began: still waiting or running, or it already ran again (the consumer may be that quick,
    # and on this engine bob's restart can fail for good and park once more), which leaves recorded attempts.
    (attempts,) = _sql(portal, "SELECT count(*) FROM provisioning_step WHERE action_id = 'e2e-parked'")[0]
    assert status != "parked" or attempts > 0

    page.click("#tab-webhooks")
    event = page.locator("tr[data-event='evt_e2e_replay']")
    expect(event).to_contain_text("customer.updated")
    event.locator(".replay-event").click()
    for _ in range(50):
        if _sql(portal, "SELECT attempts FROM stripe_event WHERE stripe_id = 'evt_e2e_replay'")[0][0] == 2:
            break
        page.wait_for_timeout(200)
    assert _sql(portal, "SELECT attempts FROM stripe_event WHERE stripe_id = 'evt_e2e_replay'")[0][0] == 2
    audit = _sql(
        portal,
        "SELECT action FROM audit_event WHERE actor_label = 'admin@example.com' "
        "AND action IN ('provisioning_action.retry', 'webhook_event.replay')",
    )
    assert sorted(a for (a,) in audit) == ["provisioning_action.retry", "webhook_event.replay"]


def _wait_for_status(portal: RunningPortal, subdomain: str, wanted: str, timeout_s: float = 90) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    status = ""
    while time.monotonic() < deadline:
        rows = _sql(portal, "SELECT status FROM instance WHERE subdomain = :s", s=subdomain)
        status = rows[0][0] if rows else ""
        if status == wanted:
            return
        time.sleep(0.5)
    raise AssertionError(f"{subdomain} stayed {status!r}, never {wanted!r}")


def test_reseller_sees_only_its_customers_and_the_operator_restarts_an_instance(
    page: Page, portal: RunningPortal, request
) -> None:  # type: ignore[no-untyped-def]
    request.getfixturevalue("dockerd")  # the restart runs on our real Docker engine
    sign_up(page, portal.url, "consolecustomer")
    _wait_for_status(portal, "consolecustomer", "running")
    sign_out(page)

    _sign_in(page, portal, "owner@acme.example.com", OPERATOR[1])
    page.goto(portal.url + "/admin")
    page.click("#tab-customers")
    expect(page.locator("tr[data-customer='bob']")).to_be_visible()
    expect(page.locator("tr[data-customer='alice']")).to_have_count(0)  # the platform's own customer
    expect(page.locator("tr[data-customer='consolecustomer']")).to_have_count(0)
    expect(page.locator("#customers-total")).to_have_text("1 customers")
    sign_out(page)

    _sign_in(page, portal, *OPERATOR)
    page.goto(portal.url + "/admin")
    page.click("#tab-customers")
    page.fill("#customer-search", "consolecustomer")
    row = page.locator("tr[data-customer='consolecustomer']")
    expect(row).to_be_visible()
    expect(page.locator("tr[data-customer='bob']")).to_have_count(0)  # filtered by the search
    row.locator(".admin-restart").click()
    for _ in range(50):  # the click reaches the server through the event socket
        restarts = _sql(
            portal,
            "SELECT a.requested_by FROM provisioning_action a JOIN instance i "
            "ON i.id = a.instance_id WHERE i.subdomain = 'consolecustomer' AND a.action = 'restart'",
        )
        if restarts:
            break
        page.wait_for_timeout(200)
    assert restarts == [("admin:admin@example.com",)]
    _wait_for_status(portal, "consolecustomer", "running")
    row.locator(".open-customer").click()
    expect(page.locator("#customer-detail-name")).to_have_text("consolecustomer")
    expect(page.locator("#customer-detail")).to_contain_text("restart succeeded")
    page.click("#admin-health")
    expect(page.locator("#admin-health-result")).to_contain_text("running · healthy: yes")
    expect(page.locator("#customer-usage")).to_contain_text("0.0000 of 1.0000")  # the free plan's budget
    page.fill("#customer-search", "")
    page.fill("#customer-plan", "free")  # the plan filter: consolecustomer is on Free, bob on Acme Basic
    expect(page.locator("tr[data-customer='consolecustomer']")).to_be_visible()
    expect(page.locator("tr[data-customer='bob']")).to_have_count(0)
    page.locator("tr[data-customer='consolecustomer'] .select-instance").click()
    page.click("#bulk-stop")  # a selection of one, through the same checks as a single action
    _wait_for_status(portal, "consolecustomer", "stopped")
    page.click("#tab-licences")
    expect(page.locator("tr[data-licence='Acme Cloud']")).to_contain_text("growth")
    page.click("#tab-audit")
    page.fill("#audit-filter", "admin.instance")
    expect(page.locator(".audit-row").first).to_contain_text("admin.instance.stop")  # newest first
    expect(page.locator("#audit-table")).to_contain_text("admin.instance.restart")


def test_impersonation_shows_the_banner_ends_with_one_click_and_is_audited(page: Page, portal: RunningPortal) -> None:
    _sign_in(page, portal, *OPERATOR)
    page.goto(portal.url + "/admin")
    page.click("#tab-customers")
    page.fill("#customer-search", "alice")
    page.locator("tr[data-customer='alice'] .open-customer").click()
    expect(page.locator("#customer-detail-name")).to_have_text("alice")
    page.locator(".impersonate-user").first.click()

    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    banner = page.locator("#impersonation-banner")
    expect(banner).to_contain_text("alice@example.com")
    expect(banner).to_contain_text("admin@example.com")
    page.goto(portal.url + "/account")  # the banner is on every page
    expect(banner).to_be_visible()

    page.click("#end-impersonation")
    expect(page).to_have_url(re.compile(r"/admin/?$"))
    expect(page.locator("#impersonation-banner")).to_have_count(0)
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # the operator's own session is back
    audit = [
        a
        for (a,) in _sql(portal, "SELECT action FROM audit_event WHERE action LIKE 'admin.impersonation%' ORDER BY id")
    ]
    assert audit[-2:] == ["admin.impersonation_started", "admin.impersonation_ended"]


def test_the_operator_sees_the_pool_adds_a_server_and_removes_it_and_a_reseller_sees_no_servers(
    page: Page, portal: RunningPortal
) -> None:
    _sign_in(page, portal, "owner@acme.example.com", OPERATOR[1])
    page.goto(portal.url + "/admin")
    expect(page.locator("#tab-customers")).to_be_visible()
    expect(page.locator("#tab-servers")).to_have_count(0)  # the pool is the platform's alone
    sign_out(page)

    _sign_in(page, portal, *OPERATOR)
    page.goto(portal.url + "/admin")
    page.click("#tab-servers")
    first = page.locator("tr[data-server='docker-1']")
    expect(first).to_be_visible()
    placed = _sql(portal, "SELECT allocated_instances FROM server WHERE name = 'docker-1'")[0][0]
    expect(first.locator("td").nth(3)).to_have_text(str(placed))  # the instances it holds, as the database says
    expect(first.get_by_role("progressbar")).to_be_visible()  # its load as a bar, the figure beside it

    page.fill("input[name='name']", "edge-2")
    page.fill("input[name='address']", "unix:///run/edge-2.sock")
    page.fill("input[name='memory_mb']", "4096")
    page.click("#add-server")
    added = page.locator("tr[data-server='edge-2']")
    expect(added).to_be_visible()
    expect(added.locator("td").nth(4)).to_have_text("0 / 4096")
    added.get_by_role("button", name="Drain edge-2").click()
    page.click("#confirm-drain-edge-2")
    # draining; or down, when the minute's watch reached its address (nothing answers there) in the meantime
    expect(added).to_contain_text(re.compile("draining|down"))
    added.get_by_role("button", name="Remove edge-2").click()
    page.click("#confirm-remove-server-edge-2")
    expect(added).to_have_count(0)
    assert _sql(portal, "SELECT count(*) FROM server WHERE name = 'edge-2'") == [(0,)]
