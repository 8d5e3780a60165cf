"""The keyboard alone: sign in with Tab and Enter, see where the focus is, and a confirmation dialog that keeps the
focus inside until it closes and then gives it back to the button that opened it. Empty lists say what to do."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD, sign_in, sign_up
from tests.support.servers import RunningPortal

OPERATOR = ("admin@example.com", "demo-password-123")

# the focused element or the box drawn around it (Radix draws a text field's ring on its root, :focus-within)
FOCUS_SHOWN = """() => {
    let el = document.activeElement;
    if (!el || el === document.body) return false;
    for (let depth = 0; el && depth < 3; depth++, el = el.parentElement) {
        const style = getComputedStyle(el);
        if ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none') {
            return true;
        }
    }
    return false;
}"""


def _tab_to(page: Page, selector: str, limit: int = 30) -> None:
    """Press Tab until `selector` has the focus, checking on the way that every stop shows where the focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            assert page.evaluate(FOCUS_SHOWN), f"{selector} has the focus but does not show it"
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


def test_a_person_signs_in_with_the_keyboard_alone(page: Page, portal: RunningPortal) -> None:
    page.goto(portal.url + "/login")
    expect(page.locator("#identifier")).to_be_visible()
    _tab_to(page, "#identifier")
    page.keyboard.type(OPERATOR[0])
    _tab_to(page, "#password", limit=3)
    page.keyboard.type(OPERATOR[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def test_a_confirmation_keeps_the_focus_and_gives_it_back(page: Page, portal: RunningPortal) -> None:
    sign_in(page, portal.url, *OPERATOR)
    page.goto(portal.url + "/admin")
    page.click("#tab-people")
    trigger = page.locator(".toggle-user").first
    expect(trigger).to_be_visible()
    trigger.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("signed out everywhere at once")  # what will happen, and when
    for _ in range(6):  # Tab cycles inside the dialog, never back to the page behind it
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement?.closest('[role=alertdialog]')")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert page.evaluate("() => document.activeElement?.classList.contains('toggle-user')")


def test_empty_lists_say_what_to_do_next(page: Page, portal: RunningPortal) -> None:
    sign_up(page, portal.url, "emptylists", plan="free", password=PASSWORD)
    page.goto(portal.url + "/developers")
    expect(page.locator("#no-tokens")).to_contain_text("Create one above")
    expect(page.locator("#no-endpoints")).to_contain_text("Add a URL above")
