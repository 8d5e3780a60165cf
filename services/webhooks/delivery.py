"""Delivering events: fanned out to every endpoint that asked for the type (the organization's own and its
sellers'), signed per Standard Webhooks (`standardwebhooks`), POSTed to the checked address without following
redirects, each attempt logged, retried with backoff for about three days, replayable with the same message id.

An endpoint that keeps failing (WEBHOOK_DISABLE_AFTER failed attempts in a row, no success between) is
disabled and its organization's owner is told once; nothing is sent to a disabled endpoint.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from standardwebhooks.webhooks import Webhook

from services.config import get_settings
from services.crypto import decrypt
from services.db import after_commit, session_scope
from services.mail.outgoing import send_after_commit
from services.models import Organization, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.models.base import key, utcnow
from services.tenancy.orgs import owner_user
from services.webhooks.addresses import Refused, resolve
from services.webhooks.outbox import replay_soon

log = logging.getLogger(__name__)

# after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 10 h, 10 h (about 47 h, two days and more)
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000)
TIMEOUT_SECONDS = 10.0
EXCERPT = 1000


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    error: str
    retry_in: float | None  # seconds, or None when there is nothing more to try


def subscribers(session: Session, event: WebhookEvent) -> list[WebhookEndpoint]:
    """Enabled endpoints of the event's organization and of every organization above it that want the type."""
    chain: list[int] = []
    current = session.get(Organization, event.organization_id)
    while current is not None and len(chain) < 16:
        chain.append(key(current))
        current = session.get(Organization, current.parent_id) if current.parent_id else None
    endpoints = session.exec(
        select(WebhookEndpoint).where(col(WebhookEndpoint.organization_id).in_(chain), col(WebhookEndpoint.enabled))
    ).all()
    return [e for e in endpoints if event.type in (e.event_types or [])]


def fan_out(event_id: int) -> list[int]:
    """A delivery per subscribed endpoint (once each, however often this runs); returns the new deliveries."""
    created: list[int] = []
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        if event is None:
            return []
        for endpoint in subscribers(session, event):
            exists = session.exec(
                select(col(WebhookDelivery.id)).where(
                    col(WebhookDelivery.endpoint_id) == endpoint.id, col(WebhookDelivery.event_id) == event_id
                )
            ).first()
            if exists is not None:
                continue
            delivery = WebhookDelivery(endpoint_id=key(endpoint), event_id=event_id, next_attempt_at=utcnow())
            session.add(delivery)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:  # another fan-out of the same event got there first
                continue
            created.append(key(delivery))
        event.fanned_out_at = utcnow()
        session.add(event)
    return created


def sign(endpoint: WebhookEndpoint, msg_id: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation's overlap the old secret signs too (space-separated)."""
    now = utcnow()
    signature = Webhook(decrypt(endpoint.secret_encrypted)).sign(msg_id, now, body)
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        signature += " " + Webhook(decrypt(endpoint.previous_secret_encrypted)).sign(msg_id, now, body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "portal-webhooks/1",
    }


def _post(url: str, headers: dict[str, str], body: str) -> tuple[int | None, str, str, int]:
    """(status, response excerpt, error, duration ms): to exactly the address checked now, never redirected."""
    started = time.perf_counter()
    try:
        target = resolve(url)
    except Refused as exc:
        return None, "", f"refused: {exc}", 0
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    address = f"[{target.address}]" if ":" in target.address else target.address
    parts = urlsplit(url.strip())
    rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_url = f"{target.scheme}://{address}:{target.port}{rest}"
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.post(
                request_url,
                content=body.encode(),
                headers={**headers, "host": host_header},
                extensions={"sni_hostname": target.host},
            )
    except httpx.HTTPError as exc:
        return None, "", f"{type(exc).__name__}: {exc}"[:500], int((time.perf_counter() - started) * 1000)
    return response.status_code, response.text[:EXCERPT], "", int((time.perf_counter() - started) * 1000)


def deliver(delivery_id: int, *, replay: bool = False) -> Outcome | None:
    """One attempt of a delivery (a due one, or any when replayed); the outcome is logged and the next scheduled."""
    with session_scope() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or (delivery.status != "pending" and not replay):
            return None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        event = session.get(WebhookEvent, delivery.event_id)
        if endpoint is None or event is None:
            return None
        if not endpoint.enabled:
            delivery.status, delivery.next_attempt_at, delivery.last_error = "skipped", None, "endpoint disabled"
            session.add(delivery)
            return Outcome(False, None, "endpoint disabled", None)
        body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True)
        headers = sign(endpoint, event.msg_id, body)
        url = endpoint.url
    status, excerpt, error, duration = _post(url, headers, body)
    delivered = status is not None and 200 <= status < 300
    if not delivered and not error:
        error = f"HTTP {status}"
    with session_scope() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            return None
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                request_headers={k: v for k, v in headers.items() if k != "webhook-signature"},
                status_code=status,
                response_excerpt=excerpt,
                duration_ms=duration,
                error=error,
            )
        )
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = status, error
        retry_in: float | None = None
        if delivered:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", utcnow(), None
            endpoint.consecutive_failures = 0
        else:
            endpoint.consecutive_failures += 1
            retry_index = delivery.attempts - 1
            if retry_index < len(RETRY_DELAYS):
                retry_in = RETRY_DELAYS[retry_index] * get_settings().webhook_retry_scale
                delivery.status, delivery.next_attempt_at = "pending", utcnow() + timedelta(seconds=retry_in)
            else:
                delivery.status, delivery.next_attempt_at = "failed", None
            if endpoint.enabled and endpoint.consecutive_failures >= get_settings().webhook_disable_after:
                _disable(session, endpoint)
                retry_in = None
        session.add_all([delivery, endpoint])
    return Outcome(delivered, status, error, retry_in)


def _disable(session: Session, endpoint: WebhookEndpoint) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Disabled on {utcnow():%d %b %Y %H:%M} UTC after {endpoint.consecutive_failures} failed deliveries in a row."
    )
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    owner = owner_user(session, endpoint.organization_id)
    if owner is not None:
        send_after_commit(
            session,
            "webhook_disabled",
            owner.email,
            {"endpoint_url": endpoint.url, "problem": endpoint.disabled_reason},
            organization_id=endpoint.organization_id,
        )


def replay(session: Session, delivery: WebhookDelivery) -> None:
    """Deliver again (same message id, so receivers can tell it is the same event); queued after commit."""
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    session.add(delivery)
    delivery_id = key(delivery)
    after_commit(session, lambda: replay_soon(delivery_id))


def due(session: Session, limit: int = 500) -> list[int]:
    return [
        i
        for i in session.exec(
            select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.status) == "pending", col(WebhookDelivery.next_attempt_at) <= utcnow())
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(limit)
        ).all()
        if i is not None
    ]
