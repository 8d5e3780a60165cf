"""An organization's webhook endpoints: registered, changed, rotated and removed by its owners and admins (console,
dashboard or API with `webhooks:write`), each with a Standard Webhooks secret shown once."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from services import audit
from services.crypto import encrypt
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.models.base import key, utcnow
from services.webhooks.addresses import Refused, resolve
from services.webhooks.outbox import EVENT_TYPES

MAX_ENDPOINTS = 20
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _event_types(raw: list[str]) -> list[str]:
    wanted = sorted({t.strip() for t in raw if t and t.strip()})
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed.single(
            "event_types", say("unknown event type(s): {choices}", choices=", ".join(unknown))
        )
    if not wanted:
        raise ValidationFailed.single("event_types", N_("choose at least one event type"))
    return wanted


def _checked_url(url: str) -> str:
    try:
        return resolve(url).url
    except Refused as exc:
        raise ValidationFailed.single("url", str(exc)) from exc


def endpoint_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "organization_id": endpoint.organization_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at.isoformat(),
    }


def create(
    session: Session,
    organization_id: int,
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    user_id: int | None,
    audit_fields: dict[str, Any],
    ip: str = "",
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once; only the encrypted secret is kept)."""
    count = len(
        session.exec(
            select(col(WebhookEndpoint.id)).where(col(WebhookEndpoint.organization_id) == organization_id)
        ).all()
    )
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed.single(
            "url", say("at most {endpoints} endpoints per organization", endpoints=MAX_ENDPOINTS)
        )
    if len(description) > 200:
        raise ValidationFailed.single("description", N_("at most 200 characters"))
    secret = new_secret()
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url=_checked_url(url),
        description=description.strip(),
        event_types=_event_types(event_types),
        secret_encrypted=encrypt(secret),
        created_by_user_id=user_id,
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        "webhooks.endpoint_create",
        **audit_fields,
        target=("webhook_endpoint", endpoint.id),
        organization_id=organization_id,
        ip=ip,
        details={"url": endpoint.url, "event_types": endpoint.event_types},
    )
    return endpoint, secret


def update(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    enabled: bool | None,
    audit_fields: dict[str, Any],
    ip: str = "",
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _checked_url(url)
    if event_types is not None:
        endpoint.event_types = _event_types(event_types)
    if description is not None:
        if len(description) > 200:
            raise ValidationFailed.single("description", N_("at most 200 characters"))
        endpoint.description = description.strip()
    if enabled is not None:
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason, endpoint.consecutive_failures = "", 0
    session.add(endpoint)
    audit.record(
        session,
        "webhooks.endpoint_update",
        **audit_fields,
        target=("webhook_endpoint", endpoint.id),
        organization_id=endpoint.organization_id,
        ip=ip,
        details={"url": endpoint.url, "event_types": endpoint.event_types, "enabled": endpoint.enabled},
    )
    return endpoint


def rotate_secret(session: Session, endpoint: WebhookEndpoint, *, audit_fields: dict[str, Any], ip: str = "") -> str:
    """A new secret at once; deliveries carry a signature with the old one too for ROTATION_OVERLAP."""
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = utcnow() + ROTATION_OVERLAP
    endpoint.secret_encrypted = encrypt(secret)
    session.add(endpoint)
    audit.record(
        session,
        "webhooks.secret_rotate",
        **audit_fields,
        target=("webhook_endpoint", endpoint.id),
        organization_id=endpoint.organization_id,
        ip=ip,
    )
    return secret


def delete(session: Session, endpoint: WebhookEndpoint, *, audit_fields: dict[str, Any], ip: str = "") -> None:
    """Gone with its delivery log (what was never delivered is dropped with it)."""
    from services.models import WebhookAttempt

    deliveries = session.exec(
        select(col(WebhookDelivery.id)).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    ).all()
    if deliveries:
        for attempt in session.exec(
            select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries))
        ).all():
            session.delete(attempt)
        for delivery in session.exec(select(WebhookDelivery).where(col(WebhookDelivery.id).in_(deliveries))).all():
            session.delete(delivery)
    audit.record(
        session,
        "webhooks.endpoint_delete",
        **audit_fields,
        target=("webhook_endpoint", endpoint.id),
        organization_id=endpoint.organization_id,
        ip=ip,
        details={"url": endpoint.url},
    )
    session.delete(endpoint)


def deliveries_of(session: Session, endpoint_id: int, *, before: int | None, limit: int) -> list[dict[str, Any]]:
    statement = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    )
    if before is not None:
        statement = statement.where(col(WebhookDelivery.id) < before)
    rows = session.exec(statement.order_by(col(WebhookDelivery.id).desc()).limit(limit)).all()
    return [
        {
            "id": key(delivery),
            "event_id": event.msg_id,
            "event_type": event.type,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
            "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
            "created_at": delivery.created_at.isoformat(),
        }
        for delivery, event in rows
    ]
