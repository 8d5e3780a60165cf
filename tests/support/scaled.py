"""The scaled shape, started as an operator would: one prebuilt frontend served by several `portal.web` processes
behind nginx, Reflex state in Redis, data in PostgreSQL, and a separate job service with several consumers.

Used by the browser suite's scaled configuration and by the benchmarks that compare one web process with two.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.env import PROJECT_ROOT
from tests.support.servers import free_port, run_setup

# Reflex warns when an event handler holds a session's Redis lock longer than this; the browser suite fails on
# any such warning, far below the lock's expiry (10 s), so slow work is known to run in background tasks.
LOCK_WARNING_MS = 1000
LOCK_TROUBLE = ("was held too long", "Lock expired for token", "LockExpiredError")

NGINX = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {spool}/body; proxy_temp_path {spool}/proxy;
  fastcgi_temp_path {spool}/fcgi; uwsgi_temp_path {spool}/uwsgi; scgi_temp_path {spool}/scgi;
  upstream portal_web {{
{servers}
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


def topology() -> str:
    """Which shape the browser suite drives: `embedded` (what `make run` starts: SQLite, one process) by default,
    `scaled` (PostgreSQL, Redis, two web processes behind nginx, a job service) with PORTAL_E2E_TOPOLOGY=scaled."""
    chosen = os.environ.get("PORTAL_E2E_TOPOLOGY", "embedded")
    if chosen not in ("embedded", "scaled"):
        raise ValueError(f"PORTAL_E2E_TOPOLOGY must be embedded or scaled, not {chosen!r}")
    return chosen


class StackFailed(RuntimeError):
    """A process of the stack did not come up; the message carries the end of its log."""


@dataclass
class ScaledPortal:
    """The running stack. `url` is nginx's; `web` maps each web process's port to its process."""

    url: str
    env: dict[str, str]
    ports: list[int]
    root: Path
    database_url: str
    web: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_web(self, port: int) -> None:
        log_path = self.root / f"web-{port}.log"
        with open(log_path, "ab") as log:
            self.web[port] = subprocess.Popen(
                [sys.executable, "-m", "portal.web"],
                cwd=PROJECT_ROOT,
                env={**self.env, "PORT": str(port), "GRANIAN_WORKERS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"http://127.0.0.1:{port}/api/health", log_path)

    def kill_web(self, port: int) -> None:
        """SIGKILL to the web process and its granian workers: nothing gets to hand anything over."""
        os.killpg(self.web[port].pid, signal.SIGKILL)
        self.web[port].wait(timeout=30)

    def log(self) -> str:
        """Every process's log, web processes first (what a test searches for a leaked secret or a warning)."""
        logs = [*sorted(self.root.glob("web-*.log")), self.root / "jobs.log"]
        return "\n".join(path.read_text(errors="replace") for path in logs if path.exists())

    def lock_trouble(self) -> list[str]:
        """Lines where Reflex says a handler held a session's lock too long or lost it."""
        return [line for line in self.log().splitlines() if any(mark in line for mark in LOCK_TROUBLE)]


def wait_for(url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise StackFailed(f"{url} did not answer within {timeout:.0f} s: {tail}")


def scaled_env(env: dict[str, str], edge: int, redis_url: str) -> dict[str, str]:
    """What the operator sets for the scaled shape, on top of an environment from `project_env`."""
    return {
        **env,
        "REDIS_URL": redis_url,
        "REFLEX_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3",
        "REFLEX_REDIS_LOCK_WARNING_THRESHOLD": str(LOCK_WARNING_MS),
        "PUBLIC_URL": f"http://localhost:{edge}",
        "REFLEX_API_URL": f"http://localhost:{edge}",
        "INTERNAL_URL": f"http://127.0.0.1:{edge}",  # the job service has no HTTP port of its own
        # its own build, so the embedded configuration's build stays as it is; kept between runs so that a warm
        # machine does not install the frontend's packages again (not under .states: Reflex empties that)
        "REFLEX_WEB_WORKDIR": str(Path(tempfile.gettempdir()) / "portal-scaled-web"),
        "TRUSTED_PROXY_HOPS": "1",
        "JOB_WORKERS": env.get("JOB_WORKERS", "2"),
    }


def _export_frontend(env: dict[str, str]) -> None:
    exported = subprocess.run(
        [str(Path(sys.executable).parent / "reflex"), "export", "--frontend-only", "--no-zip"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if exported.returncode != 0:
        raise StackFailed("reflex export failed: " + exported.stdout[-3000:] + exported.stderr[-3000:])


def _nginx_spool() -> Path:
    """nginx's workers run as nobody and buffer large responses on disk: their folders must be theirs to reach."""
    spool = Path(tempfile.mkdtemp(prefix="pnx-scaled-"))
    spool.chmod(0o755)
    for folder in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        (spool / folder).mkdir()
        (spool / folder).chmod(0o777)
    return spool


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def scaled_portal(
    env: dict[str, str], root: Path, *, web_processes: int = 2, jobs: bool = True
) -> Iterator[ScaledPortal]:
    """Migrate and seed `env`'s database, build the frontend once, start nginx, the web processes and the jobs.

    `env` comes from `scaled_env` (its PUBLIC_URL names nginx's port). Everything is stopped on the way out.
    """
    if shutil.which("nginx") is None:
        raise StackFailed("nginx is not installed (apt-get install nginx)")
    edge = int(env["PUBLIC_URL"].rsplit(":", 1)[1])
    ports = [free_port() for _ in range(web_processes)]
    run_setup(env)
    _export_frontend(env)
    spool = _nginx_spool()
    servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=0;" for port in ports)
    (root / "nginx.conf").write_text(NGINX.format(root=root, spool=spool, servers=servers, edge=edge))
    running = ScaledPortal(
        url=f"http://localhost:{edge}", env=env, ports=ports, root=root, database_url=env["DATABASE_URL"]
    )
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, spool, True)
        nginx = subprocess.Popen(["nginx", "-c", str(root / "nginx.conf"), "-g", "daemon off;"])
        stack.callback(lambda: (nginx.terminate(), nginx.wait(timeout=30)))
        if jobs:
            with open(root / "jobs.log", "ab") as jobs_log:
                consumer = subprocess.Popen(
                    [sys.executable, "-m", "portal.serve", "--role", "jobs"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=jobs_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            stack.callback(_stop, consumer)
        stack.callback(lambda: [_stop(process) for process in running.web.values()])
        for port in ports:
            running.start_web(port)
        wait_for(f"http://127.0.0.1:{edge}/api/health", root / "error.log")
        yield running
