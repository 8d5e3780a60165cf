"""Caddy as the instance edge, driven through its admin API: HTTPS for every instance and every proven domain.

Every change is one atomic replacement of the routes, made against the version that was read (`If-Match` with
Caddy's ETag), so any number of web and job processes can change routes at once without losing each other's
changes, and Caddy itself validates the new configuration before it replaces the working one. Certificates are
obtained on demand, the first time a name is asked for, and only for names the portal's `ask` endpoint vouches
for (portal/api/edge.py): Caddy's internal CA for `make run` and tests (its root exported to var/caddy/root.crt),
ACME (Let's Encrypt or ACME_CA) in production.

The admin API listens on a unix socket of the portal's own by default (var/caddy/admin.sock): a system Caddy's
admin endpoint is never reconfigured by mistake, and no other user of the machine can reconfigure this one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import subprocess
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from services.config import Settings, get_settings
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.proxy.base import Answer, Route, connect_address, listen_port, with_port

log = logging.getLogger(__name__)

SERVER = "edge"
ROUTES_PATH = f"/config/apps/http/servers/{SERVER}/routes"
PORTAL_ROUTE_ID = "portal-domains"
INSTANCE_ROUTE_PREFIX = "instance-"
START_SECONDS = 15.0
CHANGE_ATTEMPTS = 20
ADMIN_ATTEMPTS = 5
UPSTREAM = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$")
HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
UNKNOWN_HOST: dict[str, Any] = {
    "@id": "unknown-host",
    "handle": [{"handler": "static_response", "status_code": 404, "body": "No site is served at this address."}],
}
_ALIGNED: set[str] = set()  # Caddy endpoints this process has seen running with the settings' listeners and TLS


def etag(path: str, body: bytes) -> str:
    """Caddy's ETag of a config read: the path and the 32-bit FNV-1a hash of the body it sent (admin.go). Caddy
    sends it as an HTTP trailer, which httpx does not expose, so it is computed from the body here."""
    value = 0x811C9DC5
    for byte in body:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f'"{path} {value:08x}"'


class CaddyRejected(PermanentError):
    """Caddy refused a configuration; the working one stays in place."""


class CaddyProxy:
    name = "caddy"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.dir = Path(self.settings.caddy_dir or self.settings.var_dir / "caddy")
        self.tls = self.settings.edge_tls_mode
        self.admin = self.settings.caddy_admin

    # --- the admin API ---------------------------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        return _admin_client(self.admin)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call of the admin API. Caddy restarts its admin endpoint with every configuration it loads (and
        with the old one after refusing a new one), so a connection it drops meanwhile is tried again."""
        for attempt in range(ADMIN_ATTEMPTS):
            try:
                return self._client().request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                if attempt == ADMIN_ATTEMPTS - 1:
                    raise ProvisioningError(f"Caddy's admin API ({self.admin}) did not answer: {exc}") from exc
                time.sleep(0.1 * (attempt + 1))
            except httpx.HTTPError as exc:
                raise ProvisioningError(f"Caddy's admin API ({self.admin}) did not answer: {exc}") from exc
        raise AssertionError("unreachable")

    def _answering(self) -> bool:
        try:
            return self._client().get("/config/").status_code == 200
        except httpx.HTTPError:
            return False

    # --- the configuration -----------------------------------------------------------------------------------------

    def base_config(self, routes: list[dict[str, Any]]) -> dict[str, Any]:
        """The whole configuration around `routes`: listeners, TLS policy, storage and the admin endpoint. A host
        no route matches gets a 404 (Caddy's own default is an empty 200), as from nginx's default server."""
        https, http = self.settings.edge_https_listen, self.settings.proxy_listen
        routes = [*routes, UNKNOWN_HOST]
        servers: dict[str, Any]
        if self.tls == "off":
            servers = {SERVER: {"listen": [http], "routes": routes, "automatic_https": {"disable": True}}}
        else:
            port = listen_port(https)
            location = "https://{http.request.host}" + ("" if port == 443 else f":{port}") + "{http.request.uri}"
            servers = {
                SERVER: {
                    "listen": [https],
                    "routes": routes,
                    "tls_connection_policies": [{}],
                    "automatic_https": {"disable_redirects": True},
                },
                "redirect": {
                    "listen": [http],
                    "routes": [
                        {
                            "handle": [
                                {"handler": "static_response", "status_code": 308, "headers": {"Location": [location]}}
                            ]
                        }
                    ],
                    "automatic_https": {"disable_redirects": True},
                },
            }
        apps: dict[str, Any] = {
            "http": {"http_port": listen_port(http), "https_port": listen_port(https), "servers": servers}
        }
        if self.tls != "off":
            issuer: dict[str, Any] = {"module": "internal"}
            if self.tls == "acme":
                issuer = {"module": "acme", "ca": self.settings.acme_ca}
                if self.settings.acme_email:
                    issuer["email"] = self.settings.acme_email
            apps["tls"] = {
                "automation": {
                    "policies": [{"issuers": [issuer], "on_demand": True}],
                    "on_demand": {"ask": self.settings.edge_ask_url},
                }
            }
            apps["pki"] = {"certificate_authorities": {"local": {"install_trust": False}}}
        return {
            # the Host our own client sends on the socket; Caddy refuses any other (DNS rebinding)
            "admin": {"listen": self.admin, "origins": ["localhost"], "config": {"persist": True}},
            "storage": {"module": "file_system", "root": str(self.dir / "data")},
            "logging": {"logs": {"default": {"level": "WARN"}}},
            "apps": apps,
        }

    @staticmethod
    def route_json(route: Route) -> dict[str, Any]:
        _check_upstream(route.upstream)
        return _proxy_route(f"{INSTANCE_ROUTE_PREFIX}{route.subdomain}", route.hosts, route.upstream)

    def portal_route(self, hosts: Sequence[str]) -> dict[str, Any] | None:
        return _proxy_route(PORTAL_ROUTE_ID, hosts, self.settings.portal_upstream) if hosts else None

    # --- the process -----------------------------------------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start Caddy when its admin API does not answer; make its listeners and TLS policy those of the settings
        (a changed port or TLS mode is applied with the routes Caddy holds). Checked once per process and
        setting; a Caddy that stops later is started again by the next change that cannot reach it."""
        key = json.dumps([self.admin, self.base_config([])], sort_keys=True)
        if key in _ALIGNED:
            return
        if not self._answering():
            self._start()
        self._align_base()
        _ALIGNED.add(key)

    def _start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.admin.startswith("unix/"):
            Path(self.admin[len("unix/") :]).unlink(missing_ok=True)
        config = self.dir / "base.json"
        config.write_text(json.dumps(self.base_config([]), indent=1))
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(self.dir / "data"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "HOME": str(self.dir),
        }
        command = [self.settings.caddy_bin, "run", "--config", str(config), "--resume"]
        command += ["--pidfile", str(self.dir / "caddy.pid")]
        try:
            with open(self.dir / "caddy.log", "ab") as log_file:
                process = subprocess.Popen(  # its own session: it outlives the portal's processes, like nginx's
                    command, stdout=log_file, stderr=log_file, env=env, start_new_session=True, cwd=self.dir
                )
        except FileNotFoundError as exc:
            raise PermanentError(f"Caddy is not installed ({self.settings.caddy_bin} not found)") from exc
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._answering():
                return
            if process.poll() is not None:  # it gave up (a port taken, a bad setting): say why at once
                break
            time.sleep(0.05)
        tail = (self.dir / "caddy.log").read_text(errors="replace")[-600:]
        raise ProvisioningError(f"Caddy did not start: {tail}")

    def _align_base(self) -> None:
        response = self._request("GET", "/config/")
        current = response.json() or {}
        routes = (((current.get("apps") or {}).get("http") or {}).get("servers") or {}).get(SERVER, {}).get("routes")
        wanted = self.base_config(_served(routes or []))
        if _without_routes(current) != _without_routes(wanted):
            self._load(wanted)

    def _load(self, config: dict[str, Any]) -> None:
        response = self._request("POST", "/load", json=config)
        if response.status_code != 200:
            raise CaddyRejected(f"Caddy rejected the configuration; the working one was kept: {response.text[:600]}")

    def stop(self) -> None:
        if self._answering():
            self._request("POST", "/stop")

    # --- changes ---------------------------------------------------------------------------------------------------

    def _change(self, transform: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> bool:
        """Read the routes, transform them and write them back only if nobody changed them meanwhile."""
        self.ensure_running()
        for _attempt in range(CHANGE_ATTEMPTS):
            response = self._read_routes()
            if response.status_code != 200:
                raise ProvisioningError(f"Caddy's routes could not be read: {response.text[:300]}")
            current = response.json() or []
            wanted = [*transform(_served(current)), UNKNOWN_HOST]  # the catch-all stays last
            if wanted == current:
                return False
            written = self._request(
                "PATCH", ROUTES_PATH, json=wanted, headers={"If-Match": etag(ROUTES_PATH, response.content)}
            )
            if written.status_code == 200:
                return True
            if written.status_code != 412:  # 412: another process changed the routes first; read them again
                raise CaddyRejected(
                    f"Caddy rejected the new routes; the working configuration was kept: {written.text[:600]}"
                )
        raise ProvisioningError("Caddy's routes kept changing under us; trying again later.")

    def _read_routes(self) -> httpx.Response:
        try:
            return self._client().get(ROUTES_PATH)
        except httpx.HTTPError:
            _ALIGNED.clear()  # Caddy stopped since we last looked: start it (it resumes its last configuration)
            self.ensure_running()
            return self._request("GET", ROUTES_PATH)

    def publish(self, route: Route) -> bool:
        new = self.route_json(route)
        return self._change(lambda routes: _replace(routes, new["@id"], new))

    def unpublish(self, subdomain: str) -> bool:
        return self._change(lambda routes: _replace(routes, f"{INSTANCE_ROUTE_PREFIX}{subdomain}", None))

    def set_portal_hosts(self, hosts: Sequence[str]) -> bool:
        new = self.portal_route(hosts)
        return self._change(lambda routes: _replace(routes, PORTAL_ROUTE_ID, new))

    def regenerate(self, routes: Sequence[Route], portal_hosts: Sequence[str] = ()) -> int:
        """Every route from the database's truth, in one change; anything else in the server's routes goes."""
        wanted = [self.route_json(route) for route in routes]
        portal = self.portal_route(portal_hosts)
        if portal is not None:
            wanted.append(portal)
        self._change(lambda _current: wanted)
        return len(routes)

    # --- how customers arrive --------------------------------------------------------------------------------------

    def address(self) -> str | None:
        return self.settings.proxy_listen if self.tls == "off" else self.settings.edge_https_listen

    def url_for(self, host: str) -> str:
        if self.tls == "off":
            return with_port("http", host, listen_port(self.settings.proxy_listen))
        return with_port("https", host, listen_port(self.settings.edge_https_listen))

    def root_certificate(self) -> Path | None:
        """Caddy's internal root, exported where browsers, tests and our own checks can trust it. Read from
        Caddy's storage (its admin endpoint for it fails after Caddy refused a configuration, in 2.6)."""
        if self.tls != "internal":
            return None
        target = self.dir / "root.crt"
        stored = self.dir / "data" / "pki" / "authorities" / "local" / "root.crt"
        if stored.exists():
            pem = stored.read_text()
        else:
            response = self._request("GET", "/pki/ca/local")
            if response.status_code != 200:
                raise ProvisioningError(f"Caddy's internal CA could not be read: {response.text[:300]}")
            pem = str(response.json().get("root_certificate") or "")
        if not target.exists() or target.read_text() != pem:
            self.dir.mkdir(parents=True, exist_ok=True)
            target.write_text(pem)
        return target

    def check(self, host: str, path: str) -> bool:
        """A request through the edge with the host's own name in TLS (SNI), verified against the edge's CA; the
        first one also makes Caddy obtain the host's certificate, so the customer never waits for it."""
        answer = self.probe(host, path)
        return answer.status is not None and answer.status < 400

    def probe(self, host: str, path: str) -> Answer:
        address = connect_address(self.address() or "")
        try:
            if self.tls == "off":
                response = _plain_client().get(f"http://{address}{path}", headers={"Host": host})
                return Answer(None, response.status_code)
            root = self.root_certificate()
            response = _tls_client(root.read_text() if root else "").get(
                f"https://{address}{path}", headers={"Host": host}, extensions={"sni_hostname": host}
            )
        except (ssl.SSLError, httpx.ConnectError) as exc:
            if _tls_failure(exc):
                return Answer(False, None, f"no certificate for {host} yet ({_reason(exc)})")
            return Answer(None, None, f"the edge did not answer ({_reason(exc)})")
        except (httpx.HTTPError, ProvisioningError) as exc:
            return Answer(None, None, f"the edge did not answer ({_reason(exc)})")
        return Answer(True, response.status_code)


def _tls_failure(exc: BaseException) -> bool:
    """The edge was reached but the TLS handshake failed (no certificate, or one we do not trust)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "TLS" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]


def _proxy_route(route_id: str, hosts: Sequence[str], upstream: str) -> dict[str, Any]:
    bad = [h for h in hosts if not HOST.match(h)]
    if bad or not hosts:
        raise PermanentError(f"Not host names the edge can route: {bad or 'none'}")
    return {
        "@id": route_id,
        "match": [{"host": list(hosts)}],
        "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": upstream}]}],
        "terminal": True,
    }


def _check_upstream(upstream: str) -> None:
    if not UPSTREAM.match(upstream):
        raise PermanentError(f"{upstream!r} is not an address the edge can forward to (host:port).")


def _replace(routes: list[dict[str, Any]], route_id: str, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """`routes` with every route of that id replaced by `new` (once) or removed; a new id is appended."""
    kept = [r for r in routes if r.get("@id") != route_id]
    if new is None:
        return kept
    position = next((i for i, r in enumerate(routes) if r.get("@id") == route_id), len(routes))
    position = min(position, len(kept))
    return [*kept[:position], new, *kept[position:]]


def _served(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The routes of instances and portal domains, without the catch-all for unknown hosts."""
    return [dict(r) for r in routes if r.get("@id") != UNKNOWN_HOST["@id"]]


def _without_routes(config: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(config))
    server = (((copy.get("apps") or {}).get("http") or {}).get("servers") or {}).get(SERVER)
    if isinstance(server, dict):
        server.pop("routes", None)
    return dict(copy)


@lru_cache(maxsize=8)
def _admin_client(admin: str) -> httpx.Client:
    """One client per admin endpoint for the process. Plain HTTP (no TLS context to build, which took longer than
    the call itself) and no kept connection: Caddy restarts its admin endpoint when it loads a configuration."""
    limits = httpx.Limits(max_keepalive_connections=0)
    if admin.startswith("unix/"):
        transport = httpx.HTTPTransport(uds=admin[len("unix/") :], verify=False, limits=limits)
        return httpx.Client(transport=transport, base_url="http://localhost", timeout=10.0, verify=False)
    return httpx.Client(base_url=f"http://{admin}", timeout=10.0, verify=False, limits=limits)


# No connection is kept: every look is a new connection, so each one shows the certificate the edge serves for
# that name (a kept connection, made for another name, would be reused whatever the name asked for).
_FRESH = httpx.Limits(max_keepalive_connections=0)


@lru_cache(maxsize=1)
def _plain_client() -> httpx.Client:
    return httpx.Client(timeout=5.0, follow_redirects=False, limits=_FRESH)


@lru_cache(maxsize=4)
def _tls_client(root_pem: str) -> httpx.Client:
    """Trusting the edge's exported root (internal CA), else the system's store (ACME)."""
    context = ssl.create_default_context(cadata=root_pem or None)
    return httpx.Client(timeout=30.0, follow_redirects=False, verify=context, limits=_FRESH)
