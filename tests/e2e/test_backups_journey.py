"""A customer backs up their instance, downloads the backup, and restores it from /backups in a browser: the
note their app keeps in its data volume is the one from the backup afterwards, and the dashboard follows."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.support.docker_env import Dockerd, read_note, write_note
from tests.support.servers import RunningPortal

USERNAME = "backupcustomer"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@pytest.fixture()
def engine(request: pytest.FixtureRequest) -> Dockerd:
    """The portal of these tests runs instances on our Docker engine (REQUIRE_DOCKER=1 in CI)."""
    return request.getfixturevalue("dockerd")  # type: ignore[no-any-return]


def _note(engine: Dockerd, data: bytes | None = None) -> bytes:
    """Write the app's note.txt into its data volume, or read it back."""
    client = engine.client()
    try:
        container = client.containers.get(f"portal-{USERNAME}")
        if data is not None:
            write_note(container, data)
            return data
        return read_note(container)
    finally:
        client.close()


def _until_listed(page: Page, text: str, count: int, timeout: float = 60) -> None:
    """The list is read again with its Refresh button until `count` finished backups show `text`."""
    rows = page.locator("#backup-list tr[data-backup]", has_text=text)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.click("#refresh-backups")
        page.wait_for_timeout(500)
        if rows.filter(has=page.get_by_role("button", name="Restore", exact=False)).count() >= count:
            return
    raise AssertionError(f"no {count} finished backup(s) of kind {text!r} within {timeout:.0f} s")


def test_customer_backs_up_downloads_and_restores_from_the_browser(
    page: Page, portal: RunningPortal, engine: Dockerd
) -> None:
    sign_up(page, portal.url, USERNAME, plan="free")
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=90_000)
    _note(engine, b"the note as it was\n")

    page.click("#backups-link")
    expect(page.locator("#no-backups")).to_be_visible()  # says what to do when there is nothing yet
    page.click("#back-up-now")
    _until_listed(page, "Taken by hand", 1)

    with page.expect_download() as download:
        page.locator("#backup-list tr[data-backup]").first.get_by_role("button", name="Download").click()
    saved = download.value.path()
    assert saved is not None and open(saved, "rb").read(4) == ZSTD_MAGIC

    _note(engine, b"a change to undo\n")
    page.locator("#backup-list tr[data-backup]", has_text="Taken by hand").first.get_by_role(
        "button", name="Restore"
    ).click()
    expect(page.get_by_role("alertdialog")).to_contain_text("backed up first")  # says what happens before it does
    page.locator("[id^=confirm-restore-]").click()
    _until_listed(page, "Before a restore", 1, timeout=90)

    page.click("text=Back to the dashboard")
    expect(page.locator("#instance-status")).to_have_attribute("data-status", "running", timeout=60_000)
    assert _note(engine) == b"the note as it was\n"
