"""Webhook endpoints through the API: the token's own organization's (or, for staff, one in their subtree), with
`webhooks:write`; an id outside that reach is answered as not found."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.api.access import check
from services.api.resources import decode_cursor, encode_cursor
from services.api.tokens import ApiCaller
from services.models import WebhookDelivery, WebhookEndpoint
from services.webhooks import endpoints
from services.webhooks.delivery import replay as mark_for_replay

SCOPE = "webhooks:write"


def _endpoint(session: Session, caller: ApiCaller, endpoint_id: int) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    check(
        session,
        caller,
        SCOPE,
        target=("webhook_endpoint", endpoint_id),
        organization_id=found.organization_id if found else None,
    )
    assert found is not None
    return found


def _own(session: Session, caller: ApiCaller) -> None:
    own = caller.organization_id
    check(session, caller, SCOPE, target=("organization", own), organization_id=own)


def list_endpoints(session: Session, caller: ApiCaller) -> list[dict[str, Any]]:
    check(
        session, caller, SCOPE, target=("organization", caller.organization_id), organization_id=caller.organization_id
    )
    rows = session.exec(
        select(WebhookEndpoint)
        .where(col(WebhookEndpoint.organization_id) == caller.organization_id)
        .order_by(col(WebhookEndpoint.id))
    ).all()
    return [endpoints.endpoint_dict(e) for e in rows]


def create_endpoint(
    session: Session, caller: ApiCaller, url: str, event_types: list[str], description: str, ip: str
) -> dict[str, Any]:
    check(
        session, caller, SCOPE, target=("organization", caller.organization_id), organization_id=caller.organization_id
    )
    endpoint, secret = endpoints.create(
        session,
        caller.organization_id,
        url=url,
        event_types=event_types,
        description=description,
        user_id=caller.user_id,
        audit_fields=caller.audit_fields(),
        ip=ip,
    )
    return {"endpoint": endpoints.endpoint_dict(endpoint), "secret": secret}


def get_endpoint(session: Session, caller: ApiCaller, endpoint_id: int) -> dict[str, Any]:
    return endpoints.endpoint_dict(_endpoint(session, caller, endpoint_id))


def update_endpoint(
    session: Session, caller: ApiCaller, endpoint_id: int, changes: dict[str, Any], ip: str
) -> dict[str, Any]:
    endpoint = _endpoint(session, caller, endpoint_id)
    endpoints.update(
        session,
        endpoint,
        url=changes.get("url"),
        event_types=changes.get("event_types"),
        description=changes.get("description"),
        enabled=changes.get("enabled"),
        audit_fields=caller.audit_fields(),
        ip=ip,
    )
    return endpoints.endpoint_dict(endpoint)


def delete_endpoint(session: Session, caller: ApiCaller, endpoint_id: int, ip: str) -> None:
    endpoints.delete(session, _endpoint(session, caller, endpoint_id), audit_fields=caller.audit_fields(), ip=ip)


def rotate(session: Session, caller: ApiCaller, endpoint_id: int, ip: str) -> str:
    return endpoints.rotate_secret(
        session, _endpoint(session, caller, endpoint_id), audit_fields=caller.audit_fields(), ip=ip
    )


def deliveries(session: Session, caller: ApiCaller, endpoint_id: int, cursor: str | None, limit: int) -> dict[str, Any]:
    endpoint = _endpoint(session, caller, endpoint_id)
    items = endpoints.deliveries_of(session, endpoint.id or 0, before=decode_cursor(cursor), limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(int(items[-1]["id"])) if more and items else None}


def replay(session: Session, caller: ApiCaller, endpoint_id: int, delivery_id: int, ip: str) -> dict[str, Any]:
    endpoint = _endpoint(session, caller, endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        check(session, caller, SCOPE, target=("webhook_delivery", delivery_id), organization_id=None)
    assert delivery is not None
    mark_for_replay(session, delivery)
    rows = endpoints.deliveries_of(session, endpoint.id or 0, before=delivery_id + 1, limit=1)
    return rows[0]
