"""A public page paints from its HTML before any script runs, then hydrates and works (portal/paint_first.py)."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.support.servers import RunningPortal


def test_the_page_paints_first_then_hydrates_and_works(browser: Browser, portal: RunningPortal) -> None:
    context = browser.new_context()  # without the browser suite's start-at-once switch: the order people get
    page = context.new_page()
    served = page.request.get(portal.url + "/signup").text()
    assert "Create your account" in served  # the page is in its HTML
    assert 'rel="modulepreload"' not in served.split("<body")[0]  # no script is asked for before the paint
    assert '<script type="module"' not in served
    page.goto(portal.url + "/signup")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    deadline = time.monotonic() + 15
    while True:  # typing reaches the form once it has hydrated, a frame after the paint
        page.fill("#username", "")  # React only hears a change: the same text twice is none
        page.fill("#username", "alice")  # a demo customer has it
        if page.locator("#username-error").count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    expect(page.locator("#username-error")).to_contain_text("already taken")
    assert page.locator('head link[rel="modulepreload"]').count() > 0  # then every script at once
    context.close()


def test_a_public_page_loads_only_its_own_code(page: Page, portal: RunningPortal) -> None:
    """The landing page asks for the scripts it uses: not the console's charts nor the developers' code
    highlighter (each page's compiled components live in a module of their own: portal/components/layout.py)."""
    served = page.request.get(portal.url + "/").text()
    found = re.search(r"\}\)\((\".*?\"),(\[.*?\])\)</script>", served, re.S)
    assert found, "the page's scripts are started by the paint-first loader"
    modules = json.loads(found.group(2))
    sizes = {}
    for module in modules:
        body = page.request.get(portal.url + module).body()
        assert b"recharts" not in body and b"refractor" not in body, f"{module} holds another page's library"
        sizes[module] = len(body)
    assert sum(sizes.values()) < 1_200_000, sizes  # 1.8 MB when every page's components shared one module
