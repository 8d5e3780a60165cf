"""Caddy as the edge, for real: instances on a real Docker engine answer over HTTPS with a certificate that
verifies against the exported root, a customer's domain serves once DNS (a real dnsmasq) proves it and stops
once removed, the certificate question is answered by the portal's own route, and a broken configuration never
replaces a working one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, select

from services.admin import domains as seller_domains
from services.branding.brand import brand_for_host
from services.domains import checks, claims
from services.domains.ask import may_have_certificate
from services.domains.edge import refresh_edge
from services.models import Domain, DomainStatus, Instance, Licence, Organization, Plan, Subscription
from services.provisioning import actions, engine
from services.provisioning.operations import regenerate_proxy
from services.provisioning.proxy import caddy
from services.provisioning.urls import instance_url
from services.tenancy.licences import FEATURES
from tests.support.dns import DnsZone, dns_zone
from tests.support.docker_env import unavailable
from tests.support.edge import Edge, caddy_edge
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance
from tests.support.provisioning import Provisioning
from tests.support.tenants import actor, customer

HOST = "shop.example.org"


@pytest.fixture()
def edge(provisioning: Provisioning, settings_env: SettingsEnv) -> Iterator[Edge]:
    if shutil.which("caddy") is None:
        unavailable("Caddy is not installed (apt-get install caddy)")
    settings_env.setenv("INSTANCE_SCHEME", "")  # links follow the edge
    with caddy_edge(settings_env) as running:
        yield running


def _provision(p: Provisioning, db: Session, subdomain: str, domains: int = 0) -> Instance:
    instance = customer_instance(db, subdomain)
    if domains:
        plan = db.get(Plan, db.get(Subscription, instance.subscription_id).plan_id)  # type: ignore[union-attr]
        plan.limits = {**plan.limits, "custom_domains": domains}  # type: ignore[union-attr]
        db.add(plan)
    row = engine.request_action(db, instance, actions.PROVISION, requested_by="test")
    db.commit()
    assert p.run(row.id) == "succeeded"
    db.refresh(instance)
    return instance


def test_an_instance_answers_over_https_with_a_certificate_from_the_exported_root(
    provisioning: Provisioning, edge: Edge, db: Session
) -> None:
    instance = _provision(provisioning, db, "tls1")
    assert instance_url("tls1", "docker", instance.upstream) == f"https://tls1.localhost:{edge.https_port}"
    answer = edge.get("tls1.localhost", "/health")
    assert answer.status_code == 200
    assert (edge.folder / "root.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    with pytest.raises(httpx.ConnectError):  # nobody vouches for a name we do not serve: no certificate
        edge.get("stranger.localhost", "/health")
    plain = httpx.get(f"http://127.0.0.1:{edge.http_port}/x?y=1", headers={"Host": "tls1.localhost"})
    assert plain.status_code == 308
    assert plain.headers["location"] == f"https://tls1.localhost:{edge.https_port}/x?y=1"

    stop = engine.request_action(db, instance, actions.DEPROVISION, requested_by="test")
    db.commit()
    assert provisioning.run(stop.id) == "succeeded"
    assert all(r.get("@id") != "instance-tls1" for r in edge.routes())


def _zone_for(zone: DnsZone, domain: Domain, target: str) -> None:
    zone.txt[f"_portal-challenge.{domain.hostname}"] = f"portal-verify={domain.token}"
    zone.a[target] = "127.0.0.1"
    zone.cname[domain.hostname] = target
    zone.apply()


def test_a_customers_domain_serves_over_https_once_proven_and_stops_once_removed(
    provisioning: Provisioning, edge: Edge, db: Session, settings_env: SettingsEnv
) -> None:
    instance = _provision(provisioning, db, "shop", domains=1)
    with dns_zone("example.org", "localhost") as zone:
        settings_env.setenv("DNS_RESOLVER", zone.address)
        view = claims.add_instance_domain(db, customer(db, "shop"), instance.id, HOST)  # type: ignore[arg-type]
        db.commit()
        assert checks.check(view.id) == DomainStatus.WAITING_DNS
        with pytest.raises(httpx.ConnectError):  # not proven: the edge may not even get a certificate for it
            edge.get(HOST, "/health")

        domain = db.get(Domain, view.id)
        assert domain is not None
        _zone_for(zone, domain, "shop.localhost")
        assert checks.check(view.id) == DomainStatus.SERVING
        answer = edge.get(HOST, "/health")
        assert answer.status_code == 200
        route = next(r for r in edge.routes() if r.get("@id") == "instance-shop")
        assert route["match"][0]["host"] == ["shop.localhost", HOST]

        claims.remove_instance_domain(db, customer(db, "shop"), view.id)
        db.commit()
        refresh_edge(instance.id, instance.organization_id)  # what the queued refresh does
        route = next(r for r in edge.routes() if r.get("@id") == "instance-shop")
        assert route["match"][0]["host"] == ["shop.localhost"]
        assert not _served(edge, HOST)
        assert not may_have_certificate(db, HOST)


def _served(edge: Edge, host: str) -> bool:
    """Does the edge serve `host`? No certificate (the handshake fails) or its "no such site" 404 both say no:
    a certificate the edge obtained before stays cached, but the route is gone."""
    try:
        return edge.get(host, "/health").status_code == 200
    except httpx.ConnectError:
        return False


def test_a_broken_edge_configuration_never_replaces_a_working_one(
    provisioning: Provisioning, edge: Edge, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _provision(provisioning, db, "keep")
    broken = {"@id": "instance-broken", "handle": [{"handler": "no_such_handler"}]}
    monkeypatch.setattr(caddy.CaddyProxy, "route_json", staticmethod(lambda route: broken))
    instance = customer_instance(db, "broken")
    row = engine.request_action(db, instance, actions.PROVISION, requested_by="test")
    db.commit()
    assert provisioning.run(row.id) == "parked"
    db.expire_all()
    assert "Caddy rejected" in (db.get(type(row), row.id).last_error or "")  # type: ignore[union-attr]
    monkeypatch.undo()
    assert edge.get("keep.localhost", "/health").status_code == 200
    assert [r.get("@id") for r in edge.routes()] == ["instance-keep", "unknown-host"]


def test_a_route_removed_behind_our_back_is_put_back_by_the_regeneration(
    provisioning: Provisioning, edge: Edge, db: Session
) -> None:
    _provision(provisioning, db, "again")
    edge.proxy._request("DELETE", "/id/instance-again")
    assert edge.get("again.localhost", "/health").status_code == 404  # the edge's own "no such site"
    assert regenerate_proxy(db) >= 1  # `portal-admin proxy`, and the reconciler every minute
    assert edge.get("again.localhost", "/health").status_code == 200
    assert db.exec(select(Instance).where(Instance.subdomain == "again")).one().status == "running"


def test_a_sellers_proven_portal_domain_reaches_the_portal_through_the_edge_in_its_brand(
    edge: Edge, db: Session, settings_env: SettingsEnv, tree: dict
) -> None:
    reseller = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    db.add(Licence(organization_id=reseller.id, tier="pro", features=list(FEATURES)))  # type: ignore[arg-type]
    db.commit()
    with dns_zone("example.org", "test") as zone:
        settings_env.setenv("DNS_RESOLVER", zone.address)
        view = seller_domains.add_domain(db, actor(db, tree, "a-admin"), reseller.id, "portal.alpha.example.org")  # type: ignore[arg-type]
        db.commit()
        assert not _served(edge, "portal.alpha.example.org")
        domain = db.get(Domain, view.id)
        assert domain is not None
        _zone_for(zone, domain, "portal.test")  # EDGE_HOSTNAME: the portal's own host by default
        assert checks.check(view.id) == DomainStatus.SERVING
        answer = edge.get("portal.alpha.example.org", "/api/health")
        assert answer.status_code in (200, 503) and "checks" in answer.json()  # the portal itself answered
        assert brand_for_host(db, "portal.alpha.example.org").organization_id == reseller.id
