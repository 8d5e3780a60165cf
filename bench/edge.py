"""The edge (issue: The edge, HTTPS for every instance and custom domains), in one run on a real Docker engine:

(a) p95 from "instance container started" to the first 200 through Caddy (HTTPS, the certificate obtained on
    demand by that first request, the portal's /api/edge/ask asked, served by a process of its own as in
    production) and through nginx (plain HTTP, vhost tested and reloaded), ROUNDS containers each, the two edges
    taking turns going first; `ratio caddy to nginx`;
(b) p95 from "TXT record present" to "HTTPS 200 on the custom domain": the domain's records appear in a real DNS
    server (dnsmasq) and the portal's checks run every DOMAIN_CHECK_SECONDS, as the job queue runs them; the
    interval is printed beside it;
(c) Caddy route changes per second while ROUTES instances are routed (each change one atomic replacement of the
    routes through the admin API, read and written against Caddy's ETag), and nginx's for comparison.

Needs root, dockerd, busybox-static, nginx, caddy and dnsmasq. Run: .venv/bin/python bench/edge.py
"""

from __future__ import annotations

import os
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import free_port, percentile, temp_var

VAR = temp_var()
CADDY_DIR = Path(tempfile.mkdtemp(prefix="pbe-", dir="/tmp"))  # unix socket paths are short
HTTPS_PORT, CADDY_HTTP_PORT, NGINX_PORT = free_port(), free_port(), free_port()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
DOMAINS = int(os.environ.get("BENCH_DOMAINS", "10"))
ROUTES = int(os.environ.get("BENCH_ROUTES", "200"))
CHANGES = int(os.environ.get("BENCH_CHANGES", "100"))
POLL_SECONDS = float(os.environ.get("BENCH_DOMAIN_CHECK_SECONDS", "2"))
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(VAR),
        "DATABASE_URL": f"sqlite:///{VAR / 'edge.db'}",
        "JOBS_IMMEDIATE": "true",
        "SECRET_KEY": "bench-" + "x" * 40,
        "BASE_DOMAIN": "localhost",
        "PROXY_BACKEND": "caddy",
        "EDGE_TLS": "internal",
        "PROXY_LISTEN": f"127.0.0.1:{CADDY_HTTP_PORT}",
        "EDGE_HTTPS_LISTEN": f"127.0.0.1:{HTTPS_PORT}",
        "CADDY_DIR": str(CADDY_DIR),
        "NGINX_DIR": str(Path("/tmp") / f"pbn-{NGINX_PORT}"),
        "DOMAIN_CHECK_SECONDS": str(POLL_SECONDS),
    }
)

import httpx
from sqlmodel import Session, SQLModel

from services.db import get_engine
from services.domains import checks, claims
from services.models import Plan, Subscription
from services.provisioning.proxy import Route
from services.provisioning.proxy.caddy import CaddyProxy
from services.provisioning.proxy.nginx import NginxProxy
from tests.support.dns import dns_zone
from tests.support.docker_env import TEST_IMAGE, Dockerd, build_test_image
from tests.support.edge import api_process
from tests.support.factories import customer_instance
from tests.support.tenants import customer


def _start_container(client, name: str) -> tuple[object, str]:  # type: ignore[no-untyped-def]
    container = client.containers.run(
        TEST_IMAGE, detach=True, init=True, name=name, network="bench", ports={"8080/tcp": ("127.0.0.1", None)}
    )
    container.reload()
    port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    return container, f"127.0.0.1:{port}"


def _until_200(request: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request() == 200:  # type: ignore[operator]
                return
        except (httpx.HTTPError, ssl.SSLError):
            pass
        time.sleep(0.005)
    raise TimeoutError("no 200 in time")


def _https_status(root_pem: str, host: str, path: str = "/health") -> int:
    context = ssl.create_default_context(cadata=root_pem)
    with httpx.Client(verify=context, timeout=5, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        return client.get(
            f"https://127.0.0.1:{HTTPS_PORT}{path}", headers={"Host": host}, extensions={"sni_hostname": host}
        ).status_code


def _http_status(host: str, path: str = "/health") -> int:
    return httpx.get(f"http://127.0.0.1:{NGINX_PORT}{path}", headers={"Host": host}, timeout=5).status_code


def started_to_first_200(db: Session, client, caddy: CaddyProxy, nginx: NginxProxy) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """(a): a container started, then routed by one edge and requested through it until it answers 200."""
    results: dict[str, list[float]] = {"caddy": [], "nginx": []}
    root_pem = ""
    for n in range(ROUNDS + 1):  # round 0 warms both edges (first start, first certificate of the CA)
        order = ("caddy", "nginx") if n % 2 else ("nginx", "caddy")
        for edge in order:
            name = f"{edge}{n}"
            instance = customer_instance(db, name)
            container, upstream = _start_container(client, f"bench-{name}")
            started = time.perf_counter()
            route = Route(instance.id, name, (f"{name}.localhost",), upstream)  # type: ignore[arg-type]
            if edge == "caddy":
                caddy.publish(route)
                root_pem = root_pem or (caddy.root_certificate() or Path()).read_text()
                _until_200(lambda h=f"{name}.localhost", pem=root_pem: _https_status(pem, h))
            else:
                nginx.publish(route)
                _until_200(lambda h=f"{name}.localhost": _http_status(h))
            elapsed = time.perf_counter() - started
            if n:
                results[edge].append(elapsed)
            container.remove(force=True)  # type: ignore[attr-defined]
    return results


def txt_to_https(db: Session, client, caddy: CaddyProxy) -> list[float]:  # type: ignore[no-untyped-def]
    """(b): the records appear; the checks run every POLL_SECONDS (as the job queue runs the due ones)."""
    waits: list[float] = []
    root_pem = (caddy.root_certificate() or Path()).read_text()
    with dns_zone("example.org", "localhost") as zone:
        os.environ["DNS_RESOLVER"] = zone.address
        from services.config import reset_settings_cache

        reset_settings_cache()
        for n in range(DOMAINS):
            name, host = f"shop{n}", f"shop{n}.example.org"
            instance = customer_instance(db, name)
            plan = db.get(Plan, db.get(Subscription, instance.subscription_id).plan_id)  # type: ignore[union-attr]
            plan.limits = {**plan.limits, "custom_domains": 1}  # type: ignore[union-attr]
            container, upstream = _start_container(client, f"bench-{name}")
            instance.upstream, instance.status = upstream, "running"
            db.add_all([plan, instance])
            db.commit()
            caddy.publish(Route(instance.id, name, (f"{name}.localhost",), upstream))  # type: ignore[arg-type]
            view = claims.add_instance_domain(db, customer(db, name), instance.id, host)  # type: ignore[arg-type]
            db.commit()
            checks.check(view.id)  # the first look, right after adding: nothing there yet
            token = view.records[0]["value"]
            zone.txt[f"_portal-challenge.{host}"] = token
            zone.a[f"{name}.localhost"] = "127.0.0.1"
            zone.cname[host] = f"{name}.localhost"
            zone.apply()
            present = time.perf_counter()
            phase = (n / DOMAINS) * POLL_SECONDS  # records appear at any moment of the checks' interval
            next_check = present + POLL_SECONDS - phase
            while True:
                time.sleep(max(0.0, next_check - time.perf_counter()))
                checks.check(view.id)
                next_check += POLL_SECONDS
                try:
                    if _https_status(root_pem, host) == 200:
                        break
                except (httpx.HTTPError, ssl.SSLError):
                    continue
            waits.append(time.perf_counter() - present)
            container.remove(force=True)  # type: ignore[attr-defined]
    return waits


def route_changes(client, caddy: CaddyProxy, nginx: NginxProxy) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """(c): ROUTES instances routed, then CHANGES route changes one after another (a new upstream each time)."""
    container, upstream = _start_container(client, "bench-many")
    routes = [Route(100_000 + n, f"many{n}", (f"many{n}.localhost",), upstream) for n in range(ROUTES)]
    rates: dict[str, float] = {}
    for name, edge in (("caddy", caddy), ("nginx", nginx)):
        edge.regenerate(routes)
        started = time.perf_counter()
        for n in range(CHANGES):
            route = routes[n % ROUTES]
            edge.publish(Route(route.instance_id, route.subdomain, route.hosts, f"127.0.0.1:{20_000 + n}"))
        rates[name] = CHANGES / (time.perf_counter() - started)
        edge.regenerate([])
    container.remove(force=True)  # type: ignore[attr-defined]
    return rates


def concurrent_changes(caddy: CaddyProxy, workers: int = 4) -> int:
    """Changes from several processes' worth of threads at once lose nothing (each read-and-write is atomic)."""
    lost: list[str] = []

    def publish(n: int) -> None:
        try:
            CaddyProxy().publish(Route(200_000 + n, f"par{n}", (f"par{n}.localhost",), "127.0.0.1:1"))
        except Exception as exc:  # noqa: BLE001 - counted and shown
            lost.append(str(exc))

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(workers * 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    present = {r.get("@id") for r in caddy._request("GET", "/config/apps/http/servers/edge/routes").json()}
    return sum(1 for n in range(workers * 5) if f"instance-par{n}" not in present) + len(lost)


def main() -> None:
    SQLModel.metadata.create_all(get_engine())
    dockerd = Dockerd()
    dockerd.start()
    with api_process() as api:
        os.environ["EDGE_ASK_URL"] = f"{api}/api/edge/ask"
        from services.config import reset_settings_cache

        reset_settings_cache()
        caddy, nginx = CaddyProxy(), NginxProxy(listen=f"127.0.0.1:{NGINX_PORT}")
        try:
            client = dockerd.client()
            build_test_image(client)
            client.networks.create("bench", driver="bridge")
            with Session(get_engine(), expire_on_commit=False) as db:
                first = started_to_first_200(db, client, caddy, nginx)
                waits = txt_to_https(db, client, caddy)
            rates = route_changes(client, caddy, nginx)
            lost = concurrent_changes(caddy)
            caddy_p95, nginx_p95 = percentile(first["caddy"], 95) * 1000, percentile(first["nginx"], 95) * 1000
            print(f"rounds: {ROUNDS} containers per edge")
            print(f"container started to first 200 through caddy (https) p95: {caddy_p95:.0f} ms")
            print(f"container started to first 200 through nginx (http) p95: {nginx_p95:.0f} ms")
            print(f"ratio caddy to nginx: {caddy_p95 / nginx_p95:.2f}")
            print(f"domains: {DOMAINS}")
            print(f"verification poll interval: {POLL_SECONDS:g} s")
            print(f"TXT record present to HTTPS 200 on the custom domain p95: {percentile(waits, 95) * 1000:.0f} ms")
            print(f"routes at the edge: {ROUTES} routes")
            print(f"caddy route changes: {rates['caddy']:.1f} changes/s")
            print(f"nginx route changes: {rates['nginx']:.1f} changes/s")
            print(f"concurrent caddy changes lost: {lost} changes")
        finally:
            caddy.stop()
            nginx.stop()
            dockerd.cleanup()


if __name__ == "__main__":
    main()
