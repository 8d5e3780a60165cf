"""The scaled shape in a browser: two web processes serving one prebuilt frontend behind nginx, Reflex state in
Redis, data in PostgreSQL, a separate job service. A signed-in session keeps working when the web process that
served it is killed, whichever of the two it was."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in
from tests.support.databases import fresh_postgres_database
from tests.support.env import PROJECT_ROOT, drop_queue, require_env
from tests.support.servers import free_port, project_env, run_setup

DEMO_PASSWORD = "demo-password-123"
NGINX = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {spool}/body; proxy_temp_path {spool}/proxy;
  fastcgi_temp_path {spool}/fcgi; uwsgi_temp_path {spool}/uwsgi; scgi_temp_path {spool}/scgi;
  upstream portal_web {{
    server 127.0.0.1:{a} max_fails=0;
    server 127.0.0.1:{b} max_fails=0;
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  server {{
    listen 0.0.0.0:{edge};
    location / {{
      proxy_pass http://portal_web;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"""


@dataclass
class Scaled:
    url: str
    env: dict[str, str]
    ports: list[int]
    root: Path
    web: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_web(self, port: int) -> None:
        log = open(self.root / f"web-{port}.log", "ab")
        self.web[port] = subprocess.Popen(
            [sys.executable, "-m", "portal.web"],
            cwd=PROJECT_ROOT,
            env={**self.env, "PORT": str(port), "GRANIAN_WORKERS": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(f"http://127.0.0.1:{port}/api/health", self.root / f"web-{port}.log")

    def kill_web(self, port: int) -> None:
        """SIGKILL to the web process and its granian workers: nothing gets to hand anything over."""
        os.killpg(self.web[port].pid, signal.SIGKILL)
        self.web[port].wait(timeout=30)


def _wait(url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict) -> Iterator[Scaled]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    redis_url = require_env("PORTAL_TEST_REDIS_URL", "Redis")
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed (apt-get install nginx)")
    root = tmp_path_factory.mktemp("scaled")
    edge, a, b = free_port(), free_port(), free_port()
    queue = f"portal-scaled-{uuid.uuid4().hex[:8]}"
    with fresh_postgres_database(server) as database_url:
        env = project_env(
            root / "var",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            REFLEX_REDIS_URL=redis_url.rsplit("/", 1)[0] + "/3",
            JOBS_QUEUE_NAME=queue,
            PUBLIC_URL=f"http://localhost:{edge}",
            REFLEX_API_URL=f"http://localhost:{edge}",
            # its own build, so the other browser tests' build stays as it is; kept between runs so that a warm
            # machine does not install the frontend's packages again (not under .states: Reflex empties that)
            REFLEX_WEB_WORKDIR=str(Path(tempfile.gettempdir()) / "portal-scaled-web"),
            TRUSTED_PROXY_HOPS="1",
            PROXY_BACKEND="none",
        )
        run_setup(env)
        exported = subprocess.run(
            [str(Path(sys.executable).parent / "reflex"), "export", "--frontend-only", "--no-zip"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert exported.returncode == 0, exported.stdout[-3000:] + exported.stderr[-3000:]
        # nginx's workers run as nobody and buffer large responses on disk: their folders must be theirs to reach
        spool = Path(tempfile.mkdtemp(prefix="pnx-scaled-"))
        spool.chmod(0o755)
        for folder in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
            (spool / folder).mkdir()
            (spool / folder).chmod(0o777)
        (root / "nginx.conf").write_text(NGINX.format(root=root, spool=spool, a=a, b=b, edge=edge))
        nginx = subprocess.Popen(["nginx", "-c", str(root / "nginx.conf"), "-g", "daemon off;"])
        jobs_log = open(root / "jobs.log", "ab")
        jobs = subprocess.Popen(
            [sys.executable, "-m", "portal.serve", "--role", "jobs"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=jobs_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        running = Scaled(url=f"http://localhost:{edge}", env=env, ports=[a, b], root=root)
        try:
            for port in running.ports:
                running.start_web(port)
            _wait(f"http://127.0.0.1:{edge}/api/health", root / "error.log")
            yield running
        finally:
            for process in [*running.web.values(), jobs]:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGINT)
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
            nginx.terminate()
            nginx.wait(timeout=30)
            shutil.rmtree(spool, ignore_errors=True)
            drop_queue(redis_url, queue)


def _signed_in_dashboard(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.locator("#instance-status")).to_have_attribute("data-status", re.compile(r"\w+"))
    expect(page.locator("#sign-out")).to_be_visible()


def test_a_signed_in_session_survives_the_death_of_either_web_process(page: Page, scaled: Scaled) -> None:
    import redis

    state = redis.Redis.from_url(scaled.env["REFLEX_REDIS_URL"])
    before = set(state.scan_iter())
    sign_in(page, scaled.url, "alice", DEMO_PASSWORD)
    _signed_in_dashboard(page)
    assert set(state.scan_iter()) - before  # the browser's state lives in Redis, where both processes find it
    first, second = scaled.ports

    scaled.kill_web(first)
    page.reload()
    _signed_in_dashboard(page)  # served by the other process, from the state both share in Redis
    page.goto(scaled.url + "/account")
    expect(page.locator("#sign-out")).to_be_visible()
    page.goto(scaled.url + "/dashboard")
    _signed_in_dashboard(page)

    scaled.start_web(first)
    scaled.kill_web(second)
    page.reload()
    _signed_in_dashboard(page)
