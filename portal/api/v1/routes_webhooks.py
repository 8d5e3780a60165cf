"""Webhook endpoints and their delivery log through the API (`webhooks:write`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from portal.api.v1 import schemas
from portal.api.v1.deps import Caller, client_ip, idempotent
from portal.api.v1.problems import PROBLEM_RESPONSES
from portal.api.v1.routes import Cursor, Id, IdempotencyKey, Limit, _in_session
from services.api import webhook_endpoints as hooks

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=list[schemas.WebhookEndpoint])
def list_endpoints(who: Caller) -> Any:
    return _in_session(lambda s: hooks.list_endpoints(s, who))


@router.post("", response_model=schemas.WebhookEndpointCreated, status_code=201)
async def create_endpoint(
    request: Request, who: Caller, body: schemas.WebhookEndpointIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A new endpoint for the caller's organization; the answer holds its signing secret, shown this once."""
    ip = client_ip(request)

    def run() -> tuple[int, Any]:
        return 201, _in_session(
            lambda s: hooks.create_endpoint(s, who, body.url, body.event_types, body.description, ip)
        )

    return await idempotent(request, who, idempotency_key, run)


@router.get("/{endpoint_id}", response_model=schemas.WebhookEndpoint)
def get_endpoint(who: Caller, endpoint_id: Id) -> Any:
    return _in_session(lambda s: hooks.get_endpoint(s, who, endpoint_id))


@router.patch("/{endpoint_id}", response_model=schemas.WebhookEndpoint)
def update_endpoint(request: Request, who: Caller, endpoint_id: Id, body: schemas.WebhookEndpointPatch) -> Any:
    ip = client_ip(request)
    return _in_session(lambda s: hooks.update_endpoint(s, who, endpoint_id, body.model_dump(exclude_none=True), ip))


@router.delete("/{endpoint_id}", status_code=204, response_model=None)
def delete_endpoint(request: Request, who: Caller, endpoint_id: Id) -> None:
    ip = client_ip(request)
    _in_session(lambda s: hooks.delete_endpoint(s, who, endpoint_id, ip))


@router.post("/{endpoint_id}/rotate-secret", response_model=schemas.WebhookSecret)
async def rotate_secret(
    request: Request, who: Caller, endpoint_id: Id, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A new secret at once; for 24 hours deliveries are signed with the old one too."""
    ip = client_ip(request)

    def run() -> tuple[int, Any]:
        return 200, {"secret": _in_session(lambda s: hooks.rotate(s, who, endpoint_id, ip))}

    return await idempotent(request, who, idempotency_key, run)


@router.get("/{endpoint_id}/deliveries", response_model=schemas.DeliveryPage)
def deliveries(who: Caller, endpoint_id: Id, cursor: Cursor = None, limit: Limit = 50) -> Any:
    return _in_session(lambda s: hooks.deliveries(s, who, endpoint_id, cursor, limit))


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay", response_model=schemas.Delivery, status_code=202)
async def replay(
    request: Request,
    who: Caller,
    endpoint_id: Id,
    delivery_id: Id,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Deliver the event again, with the same event id (receivers can tell it is the same event)."""
    ip = client_ip(request)

    def run() -> tuple[int, Any]:
        return 202, _in_session(lambda s: hooks.replay(s, who, endpoint_id, delivery_id, ip))

    return await idempotent(request, who, idempotency_key, run)
