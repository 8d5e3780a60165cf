"""The scaled shape in a browser: two web processes serving one prebuilt frontend behind nginx, Reflex state in
Redis, data in PostgreSQL, a separate job service. A signed-in session keeps working when the web process that
served it is killed, whichever of the two it was.

Runs when the browser suite runs in its scaled configuration (PORTAL_E2E_TOPOLOGY=scaled, as `make test` does
where PostgreSQL and Redis are configured); the whole suite then runs on that stack, see conftest.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in
from tests.support.scaled import ScaledPortal, topology

DEMO_PASSWORD = "demo-password-123"

pytestmark = pytest.mark.skipif(
    topology() != "scaled", reason="the browser suite runs embedded here; PORTAL_E2E_TOPOLOGY=scaled runs this"
)


def _signed_in_dashboard(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.locator("#instance-status")).to_have_attribute("data-status", re.compile(r"\w+"))
    expect(page.locator("#sign-out")).to_be_visible()


def test_a_signed_in_session_survives_the_death_of_either_web_process(page: Page, portal: ScaledPortal) -> None:
    import redis

    state = redis.Redis.from_url(portal.env["REFLEX_REDIS_URL"])
    before = set(state.scan_iter())
    sign_in(page, portal.url, "alice", DEMO_PASSWORD)
    _signed_in_dashboard(page)
    assert set(state.scan_iter()) - before  # the browser's state lives in Redis, where both processes find it
    first, second = portal.ports

    portal.kill_web(first)
    page.reload()
    _signed_in_dashboard(page)  # served by the other process, from the state both share in Redis
    page.goto(portal.url + "/account")
    expect(page.locator("#sign-out")).to_be_visible()
    page.goto(portal.url + "/dashboard")
    _signed_in_dashboard(page)

    portal.start_web(first)
    portal.kill_web(second)
    page.reload()
    _signed_in_dashboard(page)
    portal.start_web(second)  # the rest of the suite runs on two processes again
