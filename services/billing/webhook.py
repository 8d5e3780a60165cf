"""Receiving Stripe webhooks: verify the signature on the raw body, store the event, acknowledge at once.

Handling happens later in the job queue, so Stripe's delivery never waits on provisioning and a failure
while handling never loses the event (it stays in stripe_event and is retried or replayed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe

from services.billing.event_store import store
from services.billing.webhook_secret import webhook_secrets

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class WebhookResult:
    status_code: int
    body: dict[str, Any]


def _reject(reason: str, detail: str) -> WebhookResult:
    log.warning("stripe webhook rejected: %s (%s)", reason, detail[:200])
    return WebhookResult(400, {"error": reason})


def receive(raw: bytes, signature_header: str | None) -> WebhookResult:
    verified = verify(raw, signature_header)
    return verified if isinstance(verified, WebhookResult) else _store(verified, raw.decode())


def _verify(raw: bytes, signature_header: str | None) -> dict[str, Any] | WebhookResult:
    if not signature_header:
        return _reject("missing Stripe-Signature header", "")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _reject("body is not UTF-8", "")
    problem = ""
    for secret in webhook_secrets():
        try:
            stripe.WebhookSignature.verify_header(text, signature_header, secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            problem = problem or str(exc)
            continue
        problem = ""
        break
    if problem:
        return _reject("invalid signature", problem)
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        return _reject("body is not JSON", str(exc))
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance((event.get("data") or {}).get("object"), dict)
    ):
        return _reject("not a Stripe event", text[:100])
    return event


def _store(event: dict[str, Any], raw_text: str) -> WebhookResult:
    """Blocking form, for callers without an event loop (tests, CLI)."""
    return acknowledgement(store.submit(event, raw_text).result(timeout=30))


def acknowledgement(is_new: bool) -> WebhookResult:
    return WebhookResult(200, {"received": True} if is_new else {"received": True, "duplicate": True})


def verify(raw: bytes, signature_header: str | None) -> dict[str, Any] | WebhookResult:
    """The verified event, or the 400 answer explaining why not."""
    return _verify(raw, signature_header)
