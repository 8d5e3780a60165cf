"""The real edge for tests: Caddy driven by the portal (its own folder, ports and admin socket), and the portal's
API routes served on loopback so Caddy can ask /api/edge/ask before it issues a certificate."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from portal.api import build_api
from services.provisioning.proxy.caddy import CaddyProxy
from tests.support.dns import DnsZone, dns_zone
from tests.support.env import SettingsEnv
from tests.support.servers import free_port


@dataclass
class Edge:
    proxy: CaddyProxy
    https_port: int
    http_port: int
    folder: Path
    api: str  # the portal's API routes, where Caddy asks and where a seller's portal domains are sent

    def root_pem(self) -> str:
        root = self.proxy.root_certificate()
        assert root is not None
        return root.read_text()

    def get(self, host: str, path: str = "/") -> httpx.Response:
        """A request to `host` through the edge over HTTPS, trusting only the edge's exported root."""
        context = ssl.create_default_context(cadata=self.root_pem())
        with httpx.Client(verify=context, timeout=10) as client:
            return client.get(
                f"https://127.0.0.1:{self.https_port}{path}", headers={"Host": host}, extensions={"sni_hostname": host}
            )

    def routes(self) -> list[dict]:
        return self.proxy._request("GET", "/config/apps/http/servers/edge/routes").json()


@contextmanager
def api_server(port: int | None = None) -> Iterator[str]:
    """The portal's own API routes (with /api/edge/ask) on a loopback port, in a thread of this process."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(build_api(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for_port(port, timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port}")


@contextmanager
def api_process(port: int | None = None) -> Iterator[str]:
    """The portal's API routes in a process of their own, as production serves them beside the pages: for a bench,
    where a thread of the bench's own process would wait on the bench (its GIL, and its heap: a full collection
    of it took 112 ms inside one /api/edge/ask). The database and settings come from this process's
    environment."""
    port = port or free_port()
    code = (
        "import sys, uvicorn; from portal.api import build_api;"
        "uvicorn.run(build_api(), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
    )
    server = subprocess.Popen([sys.executable, "-c", code, str(port)])  # inherits our environment
    try:
        _wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def caddy_edge(settings_env: SettingsEnv) -> Iterator[Edge]:
    """PROXY_BACKEND=caddy with Caddy's internal CA, started as the portal starts it and stopped after."""
    folder = Path(tempfile.mkdtemp(prefix="pcd-", dir="/tmp"))  # unix socket paths are limited to 108 bytes
    https_port, http_port = free_port(), free_port()
    with api_server() as api:
        for name, value in {
            "PROXY_BACKEND": "caddy",
            "EDGE_TLS": "internal",
            "PROXY_LISTEN": f"127.0.0.1:{http_port}",
            "EDGE_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "CADDY_DIR": str(folder),
            "EDGE_ASK_URL": f"{api}/api/edge/ask",
            "PORTAL_UPSTREAM": api.removeprefix("http://"),
        }.items():
            settings_env.setenv(name, value)
        proxy = CaddyProxy()
        proxy.ensure_running()  # as `make run` starts it, before any instance is routed
        try:
            yield Edge(proxy, https_port, http_port, folder, api)
        finally:
            proxy.stop()
            deadline = time.monotonic() + 10
            while (folder / "caddy.pid").exists() and _running(folder) and time.monotonic() < deadline:
                time.sleep(0.05)
            shutil.rmtree(folder, ignore_errors=True)


def _running(folder: Path) -> bool:
    pid = (folder / "caddy.pid").read_text().strip()
    return subprocess.run(["kill", "-0", pid], capture_output=True).returncode == 0 if pid.isdigit() else False


@dataclass
class PortalEdge:
    """The edge of a portal started as a process (browser tests): Caddy on every interface of this machine, so a
    browser in its own network namespace reaches it, and the DNS server customers' domains are proven against.
    `env` is what the portal's environment needs for them."""

    https_port: int
    folder: Path
    zone: DnsZone
    env: dict[str, str]

    def root(self) -> Path:
        return self.folder / "data" / "pki" / "authorities" / "local" / "root.crt"

    def url(self, host: str) -> str:
        return f"https://{host}:{self.https_port}"

    def stop(self) -> None:
        pid_file = self.folder / "caddy.pid"
        if pid_file.exists() and pid_file.read_text().strip().isdigit():
            subprocess.run(["kill", pid_file.read_text().strip()], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def portal_edge() -> Iterator[PortalEdge | None]:
    """Caddy's folder and ports and a DNS zone for a portal process; None without Caddy (the portal then runs
    without an edge, PROXY_BACKEND=none)."""
    if shutil.which("caddy") is None:
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            raise AssertionError("Caddy is not installed but PORTAL_REQUIRE_ALL=1 (apt-get install caddy)")
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="pce-", dir="/tmp"))
    with dns_zone("example.org", "localhost") as zone:
        https_port = free_port()
        env = {
            "PROXY_BACKEND": "caddy",
            "EDGE_TLS": "internal",
            "PROXY_LISTEN": f"0.0.0.0:{free_port()}",
            "EDGE_HTTPS_LISTEN": f"0.0.0.0:{https_port}",
            "CADDY_DIR": str(folder),
            "DNS_RESOLVER": zone.address,
            "DOMAIN_CHECK_SECONDS": "2",
        }
        edge = PortalEdge(https_port=https_port, folder=folder, zone=zone, env=env)
        try:
            yield edge
        finally:
            edge.stop()
