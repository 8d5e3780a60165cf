"""End-to-end: the production build served by `python -m portal.serve`, driven in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.helpers import SCRIPTS_WITH_THE_PAGE
from tests.support.databases import fresh_postgres_database
from tests.support.edge import PortalEdge, portal_edge
from tests.support.env import drop_queue, require_env
from tests.support.scaled import ScaledPortal, scaled_env, scaled_portal, topology
from tests.support.servers import (
    RunningPortal,
    SmtpInbox,
    free_port,
    portal_server,
    project_env,
    run_setup,
    smtp_server,
)

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# The portal provisions real instances on the same two cores while pages load: give a page up to 15 s to show
# what a person would wait for, instead of Playwright's 5 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class BrowserNetwork:
    """A network namespace of its own for the browser, joined to ours by a veth pair.

    Each instance the portal provisions gets a Docker network, i.e. a new bridge with a new address on this host.
    Chromium takes every address change for a network change and aborts what is loading with ERR_NETWORK_CHANGED,
    so a page opened while an instance starts could stay blank. In its own namespace the browser sees none of it;
    every host name (localhost, a reseller's beta.localhost) is mapped to our end of the pair.
    """

    def __init__(self) -> None:
        tag = os.getpid() % 100_000
        self.name, self.host_end, self.browser_end = f"pe2e{tag}", f"pe2e{tag}h", f"pe2e{tag}b"
        self.host_address = f"10.251.{tag % 250}.1"
        self.folder = Path(tempfile.mkdtemp(prefix="pe2e-"))
        self.launcher = self.folder / "chromium"

    def create(self) -> None:
        ns = ["ip", "netns", "exec", self.name]
        for command in (
            ["ip", "netns", "add", self.name],
            ["ip", "link", "add", self.host_end, "type", "veth", "peer", "name", self.browser_end, "netns", self.name],
            ["ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_end],
            ["ip", "link", "set", self.host_end, "up"],
            [*ns, "ip", "addr", "add", self.host_address[:-1] + "2/30", "dev", self.browser_end],
            [*ns, "ip", "link", "set", self.browser_end, "up"],
            [*ns, "ip", "link", "set", "lo", "up"],
        ):
            subprocess.run(command, check=True, capture_output=True)
        self.launcher.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {CHROMIUM} "$@"\n')
        self.launcher.chmod(0o755)

    def remove(self) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)  # takes the veth pair with it
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_network() -> Iterator[BrowserNetwork | None]:
    """The browser's own namespace where this machine allows it (root, iproute2); else the browser shares ours."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    network = BrowserNetwork()
    try:
        network.create()
    except subprocess.CalledProcessError as exc:
        network.remove()
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail(f"could not give the browser its own network namespace: {exc.stderr!r}")
        yield None
        return
    yield network
    network.remove()


class BrowserTrust:
    """The browser's own HOME with an NSS certificate store: roots added here (the edge's local CA) are trusted by
    Chromium as a person's browser trusts a root they imported, so HTTPS pages open without a warning."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="pe2e-home-"))
        self.store = self.home / ".pki" / "nssdb"

    def create(self) -> None:
        self.store.mkdir(parents=True)
        subprocess.run(["certutil", "-d", f"sql:{self.store}", "-N", "--empty-password"], check=True)

    def trust(self, root: Path, name: str = "portal-edge") -> None:
        subprocess.run(
            ["certutil", "-d", f"sql:{self.store}", "-A", "-t", "C,,", "-n", name, "-i", str(root)], check=True
        )


@pytest.fixture(scope="session")
def browser_trust() -> Iterator[BrowserTrust | None]:
    if shutil.which("certutil") is None:
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail("certutil is not installed but PORTAL_REQUIRE_ALL=1 (apt-get install libnss3-tools)")
        yield None
        return
    trust = BrowserTrust()
    trust.create()
    yield trust
    shutil.rmtree(trust.home, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_network: BrowserNetwork | None, browser_trust: BrowserTrust | None
) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} but PORTAL_REQUIRE_ALL=1")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    if browser_network is not None:
        args.append(f"--host-resolver-rules=MAP * {browser_network.host_address}")
    launch = {
        **browser_type_launch_args,
        "executable_path": str(browser_network.launcher) if browser_network else CHROMIUM,
        "args": args,
    }
    if browser_trust is not None:
        launch["env"] = {**os.environ, "HOME": str(browser_trust.home)}
    return launch


@pytest.fixture(scope="session")
def mail() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="package")
def front() -> Iterator[PortalEdge | None]:
    """Caddy in front of the portal's instances and the DNS server customers prove their domains against (None
    on a machine without Caddy: the portal then runs without an edge)."""
    with portal_edge() as edge:
        yield edge


@pytest.fixture(scope="package")  # stopped before the integration tests share its Docker engine
def portal(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    mail: tuple[SmtpInbox, int],
    browser_type_launch_args: dict[str, Any],
    browser_trust: BrowserTrust | None,
    front: PortalEdge | None,
) -> Iterator[RunningPortal | ScaledPortal]:
    """The portal in test mode for Stripe, on our Docker engine when there is one, behind Caddy (its local CA
    trusted by the browser) when it is installed, in the chosen topology.

    Depends on the browser arguments so a machine without Chromium skips before building anything.
    """
    _inbox, smtp_port = mail
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = free_port()
    env = project_env(
        var_dir,
        PORT=str(port),
        PUBLIC_URL=f"http://localhost:{port}",
        SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        PROVISION_RETRY_BASE_SECONDS="1",
        SIGNUP_RATE_PER_IP="100/hour",  # every browser test signs up from the same address (the limit: unit tests)
        LOGIN_RATE_PER_IP="300/minute",  # and signs in from it: the page walks sign in dozens of times a minute
        WEBHOOKS_ALLOW_PRIVATE="1",  # the tests' webhook receiver listens on loopback
        **(front.env if front else {"PROXY_BACKEND": "none", "INSTANCE_SCHEME": "http"}),
    )
    try:
        dockerd = request.getfixturevalue("dockerd")
    except pytest.skip.Exception:
        dockerd = None  # the pages still work; instances just cannot start
    if dockerd is not None:
        from tests.support.docker_env import TEST_IMAGE

        env.update(DOCKER_HOST=dockerd.host, DEMO_APP_IMAGE=TEST_IMAGE)
    if topology() == "scaled":
        for running_scaled in _scaled(env, var_dir):
            _trust_edge(front, browser_trust)
            yield running_scaled
        return
    run_setup(env)
    with portal_server(env, var_dir / "portal.log") as running:
        _trust_edge(front, browser_trust)
        yield running


def _trust_edge(front: PortalEdge | None, trust: BrowserTrust | None) -> None:
    """The edge's local CA into the browser's store, before the first page opens (the portal started Caddy)."""
    if front is not None and trust is not None:
        deadline = time.monotonic() + 30
        while not front.root().exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert front.root().exists(), "the portal did not start its edge"
        trust.trust(front.root())


def _scaled(env: dict[str, str], root: Path) -> Iterator[ScaledPortal]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL (the scaled browser suite)")
    redis_url = require_env("PORTAL_TEST_REDIS_URL", "Redis (the scaled browser suite)")
    queue = f"portal-e2e-{uuid.uuid4().hex[:8]}"
    with fresh_postgres_database(server) as database_url:
        env = scaled_env({**env, "DATABASE_URL": database_url, "JOBS_QUEUE_NAME": queue}, free_port(), redis_url)
        try:
            with scaled_portal(env, root) as running:
                yield running
                trouble = running.lock_trouble()
        finally:
            drop_queue(redis_url, queue)
    # a handler that held a session's Redis lock for over a second would be cut off at its expiry under load
    assert not trouble, "handlers held Reflex's state lock too long:\n" + "\n".join(trouble[:20])


@pytest.fixture()
def inbox(mail: tuple[SmtpInbox, int]) -> SmtpInbox:
    return mail[0]


@pytest.fixture(autouse=True)
def scripts_with_the_page(context: BrowserContext) -> None:
    """Pages start their scripts as they parse, not after their first paint (portal/paint_first.py): `load` then
    means hydrated, which the tests' typing and clicking rely on. test_first_paint.py walks the real order."""
    context.add_init_script(SCRIPTS_WITH_THE_PAGE)
