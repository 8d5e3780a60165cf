"""The charts render from real data: the console's trends and the customer's uptime strip and timeline, each number
on the page checked against the portal's database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from services.money import format_cents
from tests.e2e.helpers import assert_accessible, sign_in, sign_up, sql
from tests.support.servers import RunningPortal

OPERATOR = ("admin@example.com", "demo-password-123")
USERNAME = "historycustomer"


def _open_numbers(page: Page, chart: str) -> None:
    page.locator(f"#trend-{chart} summary").click()
    expect(page.locator(f"#trend-{chart} .trend-row").first).to_be_visible()


def _mrr_now(portal: RunningPortal) -> str:
    """What the platform earns a month from every subscription paid for and not cancelled, computed here in SQL."""
    rows = sql(
        portal,
        "SELECT p.price_cents, p.interval, p.currency FROM subscription s JOIN plan p ON p.id = s.plan_id "
        "WHERE s.status NOT IN ('incomplete', 'incomplete_expired') AND p.price_cents > 0 "
        "AND s.canceled_at IS NULL AND s.terminated_at IS NULL",
    )
    currencies = {c for _, _, c in rows} or {"usd"}
    assert len(currencies) == 1, currencies  # the demo data sells in one currency
    cents = sum(price // 12 if interval == "year" else price for price, interval, _ in rows)
    return format_cents(cents, currencies.pop())


def _moment(value: object) -> datetime:
    """A timestamp as either database returns it (PostgreSQL: a datetime; SQLite, through text(): a string)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instances_match_the_database(page: Page, portal: RunningPortal) -> None:
    """Today's counts per status are the database's. Instances of earlier tests may still be changing: a count
    read between the page's and ours is read again (three times at most)."""
    for attempt in range(3):
        _open_numbers(page, "instances")
        headings = page.locator("#trend-instances thead th").all_inner_texts()
        today = page.locator("#trend-instances .trend-row").last.locator("td").all_inner_texts()
        shown = dict(zip(headings[1:], (int(n) for n in today[1:]), strict=True))
        live = {s: n for s, n in sql(portal, "SELECT status, count(*) FROM instance GROUP BY status") if n}
        if shown == {s: live.get(s, 0) for s in shown} and set(live) <= set(shown):
            return
        if attempt < 2:
            page.reload()
    raise AssertionError(f"the chart shows {shown}, the database has {live}")


def test_the_console_charts_show_the_databases_numbers(page: Page, portal: RunningPortal) -> None:
    sign_in(page, portal.url, *OPERATOR)
    page.goto(portal.url + "/admin")
    for chart in ("mrr", "signups", "instances", "provisioning", "webhooks"):
        expect(page.locator(f"#trend-{chart} .recharts-wrapper")).to_be_visible()  # a picture, drawn

    _open_numbers(page, "mrr")
    rows = page.locator("#trend-mrr .trend-row")
    expect(rows).to_have_count(12)
    this_month = datetime.now(UTC).strftime("%b %Y")
    expect(rows.last.locator("td").first).to_have_text(this_month)
    expect(rows.last.locator("td").nth(1)).to_have_text(_mrr_now(portal))

    _open_numbers(page, "signups")
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    created = [_moment(t) for (t,) in sql(portal, "SELECT created_at FROM organization WHERE kind = 'customer'")]
    joined = sum(1 for t in created if t.date() >= monday)
    expect(page.locator("#trend-signups .trend-row").last.locator("td").nth(1)).to_have_text(str(joined))

    _instances_match_the_database(page, portal)

    with page.expect_download() as download:
        page.locator("#trend-mrr").get_by_role("button", name=re.compile("as CSV")).click()
    lines = download.value.path().read_text().splitlines()
    assert lines[0] == "Month,MRR (USD)" and len(lines) == 13 and lines[-1].startswith(this_month)
    assert_accessible(page, "the console's overview with its charts")


@pytest.fixture()
def on_docker(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("dockerd")


def test_the_dashboard_shows_uptime_per_day_and_the_latest_actions_steps(
    page: Page, portal: RunningPortal, on_docker: None
) -> None:
    sign_up(page, portal.url, USERNAME, plan="free")
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=90_000)
    ((instance_id,),) = sql(
        portal,
        "SELECT i.id FROM instance i JOIN membership m ON m.organization_id = i.organization_id "
        "JOIN user_account u ON u.id = m.user_id WHERE u.username = :u",
        u=USERNAME,
    )
    today = datetime.now(UTC).date()
    for days_ago, checks, up in ((1, 1440, 1440), (2, 1440, 720), (3, 10, 0)):  # up, half down, down
        sql(
            portal,
            "INSERT INTO uptime_day (instance_id, day, checks, up) VALUES (:i, :d, :c, :u)",
            i=instance_id,
            d=today - timedelta(days=days_ago),
            c=checks,
            u=up,
        )
    page.reload()
    days = page.locator("#uptime-strip .uptime-day")
    expect(days).to_have_count(30)
    for n, state in ((28, "up"), (27, "degraded"), (26, "down"), (25, "none")):  # once the history has loaded
        expect(days.nth(n)).to_have_attribute("data-state", state)
    checks, up = sql(portal, "SELECT sum(checks), sum(up) FROM uptime_day WHERE instance_id = :i", i=instance_id)[0]
    percent = 100 * up / checks
    expect(page.locator("#uptime-percent")).to_have_text("100%" if percent >= 100 else f"{percent:.2f}%")

    latest, status = sql(
        portal,
        "SELECT id, status FROM provisioning_action WHERE instance_id = :i ORDER BY created_at DESC, id DESC LIMIT 1",
        i=instance_id,
    )[0]
    steps = sql(portal, "SELECT step FROM provisioning_step WHERE action_id = :a ORDER BY id", a=latest)
    expect(page.locator("#timeline .timeline-step")).to_have_count(len(steps))
    expect(page.locator("#history")).to_contain_text(status)
    page.locator("#history summary").click()
    expect(page.locator("#uptime-table .uptime-row")).to_have_count(30)
    assert_accessible(page, "the dashboard with its history")
