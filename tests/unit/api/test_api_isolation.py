"""The isolation matrix through the API: every route that names a record, called with tenant A's tokens (every
staff role of reseller A, every customer role of its customer) on tenant B's ids. All refused (never a 2xx, never a
B record in a list), all audited, nothing of B changed. A new route that names a record fails this test until it
has a probe here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from portal.api import build_api
from portal.api.v1 import build_v1
from services.api.tokens import CUSTOMER_SCOPES, ROLE_SCOPES
from services.models import (
    AuditEvent,
    Instance,
    Membership,
    Organization,
    ProvisioningAction,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.support.api import bearer, licensed, token_for
from tests.support.factories import staff_member

DENIALS = ("admin.denied", "customer.denied", "api.denied")


@pytest.fixture()
def world(tree: dict, db: Session) -> Iterator[dict[str, Any]]:
    licensed(db, "reseller-a", "reseller-b")
    orgs = {o.slug: o for o in db.exec(select(Organization)).all()}
    staff_member(db, "a-owner", orgs["reseller-a"], "owner")
    staff_member(db, "cust-a-admin", orgs["cust-a"], "admin")
    instance_b = db.exec(select(Instance).where(Instance.organization_id == orgs["cust-b"].id)).one()
    instance_b.status = "running"
    endpoint_b = WebhookEndpoint(
        organization_id=orgs["reseller-b"].id, url="https://hooks.b.example/in", event_types=["customer.created"]
    )
    event_b = WebhookEvent(msg_id="msg_b", organization_id=orgs["cust-b"].id, type="customer.created", payload={})
    db.add_all([instance_b, endpoint_b, event_b])
    db.flush()
    delivery_b = WebhookDelivery(endpoint_id=endpoint_b.id, event_id=event_b.id, status="failed")  # type: ignore[arg-type]
    db.add(delivery_b)
    db.commit()
    with TestClient(build_api()) as client:
        yield {
            "client": client,
            "instance": instance_b.id,
            "reseller": orgs["reseller-b"].id,
            "customer": orgs["cust-b"].id,
            "endpoint": endpoint_b.id,
            "delivery": delivery_b.id,
        }


def _probes(b: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """Route template -> (method, concrete path with B's ids, JSON body)."""
    i, e = b["instance"], b["endpoint"]
    return {
        "GET /organizations/{organization_id}": ("GET", f"/api/v1/organizations/{b['customer']}", None),
        "GET /instances/{instance_id}": ("GET", f"/api/v1/instances/{i}", None),
        "POST /instances/{instance_id}/{action}": ("POST", f"/api/v1/instances/{i}/stop", None),
        "GET /instances/{instance_id}/logs": ("GET", f"/api/v1/instances/{i}/logs", None),
        "GET /instances/{instance_id}/usage": ("GET", f"/api/v1/instances/{i}/usage", None),
        "GET /instances/{instance_id}/usage/daily": ("GET", f"/api/v1/instances/{i}/usage/daily", None),
        "GET /instances/{instance_id}/usage/totals": ("GET", f"/api/v1/instances/{i}/usage/totals", None),
        "GET /instances/{instance_id}/usage.csv": ("GET", f"/api/v1/instances/{i}/usage.csv", None),
        "GET /instances/{instance_id}/budget": ("GET", f"/api/v1/instances/{i}/budget", None),
        "GET /webhook-endpoints/{endpoint_id}": ("GET", f"/api/v1/webhook-endpoints/{e}", None),
        "PATCH /webhook-endpoints/{endpoint_id}": ("PATCH", f"/api/v1/webhook-endpoints/{e}", {"enabled": False}),
        "DELETE /webhook-endpoints/{endpoint_id}": ("DELETE", f"/api/v1/webhook-endpoints/{e}", None),
        "POST /webhook-endpoints/{endpoint_id}/rotate-secret": (
            "POST",
            f"/api/v1/webhook-endpoints/{e}/rotate-secret",
            None,
        ),
        "GET /webhook-endpoints/{endpoint_id}/deliveries": ("GET", f"/api/v1/webhook-endpoints/{e}/deliveries", None),
        "POST /webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay": (
            "POST",
            f"/api/v1/webhook-endpoints/{e}/deliveries/{b['delivery']}/replay",
            None,
        ),
    }


LISTS = {  # routes that name no record: B's records never appear in what they return
    "GET /me",
    "GET /me/export",  # the token's own person only
    "GET /organizations",
    "GET /customers",
    "POST /customers",
    "GET /instances",
    "GET /plans",
    "GET /subscriptions",
    "GET /audit-events",
    "GET /webhook-endpoints",
    "POST /webhook-endpoints",
}


def test_every_api_route_is_probed_or_names_no_record() -> None:
    routes = {
        f"{method} {route.path}"  # type: ignore[attr-defined]
        for route in build_v1().routes
        if getattr(route, "include_in_schema", False)
        for method in route.methods  # type: ignore[attr-defined]
    }
    probed = set(_probes({"instance": 1, "customer": 1, "endpoint": 1, "delivery": 1}))
    assert routes - probed - LISTS == set(), "API routes without an isolation probe"


def _snapshot(db: Session, b: dict[str, Any]) -> dict[str, Any]:
    db.expire_all()
    endpoint = db.get(WebhookEndpoint, b["endpoint"])
    return {
        "instance": db.get(Instance, b["instance"]).model_dump(exclude={"updated_at"}),  # type: ignore[union-attr]
        "actions": db.exec(
            select(func.count()).select_from(ProvisioningAction).where(ProvisioningAction.instance_id == b["instance"])
        ).one(),
        "endpoint": endpoint.model_dump() if endpoint else None,
        "delivery": db.get(WebhookDelivery, b["delivery"]).model_dump(),  # type: ignore[union-attr]
        "members": db.exec(select(func.count()).select_from(Membership)).one(),
    }


def _denials(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(DENIALS))).one()  # type: ignore[attr-defined]


# every role that may hold a token (staff: owner, admin, support, billing; customers: owner, admin)
CALLERS = [
    *[(f"a-{role}", "reseller-a", tuple(ROLE_SCOPES[role])) for role in ("owner", "admin", "support", "billing")],
    ("cust-a", "cust-a", tuple(CUSTOMER_SCOPES)),
    ("cust-a-admin", "cust-a", tuple(CUSTOMER_SCOPES)),
]


@pytest.mark.parametrize(("username", "org", "scopes"), CALLERS)
def test_tenant_as_tokens_reach_nothing_of_tenant_b(
    world: dict[str, Any], db: Session, username: str, org: str, scopes: tuple[str, ...], scheduled_actions: list
) -> None:
    token = bearer(token_for(db, username, org, scopes))
    client: TestClient = world["client"]
    for name, (method, path, body) in _probes(world).items():
        before, denials = _snapshot(db, world), _denials(db)
        answer = client.request(method, path, headers=token, json=body)
        assert answer.status_code in (403, 404), f"{name} as {username}: {answer.status_code} {answer.text[:200]}"
        assert answer.headers["content-type"] == "application/problem+json"
        assert _snapshot(db, world) == before, f"{name} as {username} changed tenant B"
        assert _denials(db) > denials, f"{name} as {username} was not audited"
    for path in ("/api/v1/instances", "/api/v1/organizations", "/api/v1/customers", "/api/v1/subscriptions"):
        listed = client.get(path, headers=token, params={"limit": 100})
        if listed.status_code == 200:
            ids = {item.get("organization_id", item.get("id")) for item in listed.json()["items"]}
            assert not ids & {world["customer"], world["reseller"]}, f"{path} as {username} lists tenant B"
    listed = client.get("/api/v1/instances", headers=token, params={"organization_id": world["customer"]})
    assert listed.status_code in (200, 403) and (listed.status_code == 403 or listed.json()["items"] == [])
    assert scheduled_actions == []  # nothing was queued for anyone
