"""End-to-end: the production build served by `python -m portal.serve`, driven in Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.servers import RunningPortal, SmtpInbox, free_port, portal_server, project_env, run_setup, smtp_server

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# The portal provisions real instances on the same two cores while pages load: give a page up to 15 s to show
# what a person would wait for, instead of Playwright's 5 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} but PORTAL_REQUIRE_ALL=1")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def mail() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="package")  # stopped before the integration tests share its Docker engine
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mail: tuple[SmtpInbox, int],
           browser_type_launch_args: dict[str, Any]) -> Iterator[RunningPortal]:
    """The portal as `make run` serves it, in test mode for Stripe, on our Docker engine when there is one.

    Depends on the browser arguments so a machine without Chromium skips before building anything.
    """
    _inbox, smtp_port = mail
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = free_port()
    env = project_env(var_dir, PORT=str(port), PUBLIC_URL=f"http://localhost:{port}",
                      SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", PROXY_BACKEND="none", INSTANCE_SCHEME="http",
                      PROVISION_RETRY_BASE_SECONDS="1")
    try:
        dockerd = request.getfixturevalue("dockerd")
    except pytest.skip.Exception:
        dockerd = None  # the pages still work; instances just cannot start
    if dockerd is not None:
        from tests.docker_env import TEST_IMAGE

        env.update(DOCKER_HOST=dockerd.host, DEMO_APP_IMAGE=TEST_IMAGE)
    run_setup(env)
    with portal_server(env, var_dir / "portal.log") as running:
        yield running


@pytest.fixture()
def inbox(mail: tuple[SmtpInbox, int]) -> SmtpInbox:
    return mail[0]
