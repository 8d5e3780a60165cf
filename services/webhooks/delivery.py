"""Delivering events: fanned out to every endpoint that asked for the type (the organization's own and its
sellers'), signed per Standard Webhooks (`standardwebhooks`), POSTed to the checked address without following
redirects, each attempt logged, retried with backoff for about three days, replayable with the same message id.

An endpoint that keeps failing (WEBHOOK_DISABLE_AFTER failed attempts in a row, no success between) is
disabled and its organization's owner is told once; nothing is sent to a disabled endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select
from standardwebhooks.webhooks import Webhook

from services.config import get_settings
from services.crypto import decrypt
from services.db import after_commit, session_scope
from services.mail.outgoing import send_after_commit
from services.models import Organization, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.models.base import key, table_of, upsert_insert, utcnow
from services.tenancy.orgs import owner_user
from services.webhooks.addresses import Refused, Target, resolve
from services.webhooks.outbox import replay_soon

log = logging.getLogger(__name__)

# after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 10 h, 10 h (about 47 h, two days and more)
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000)
TIMEOUT_SECONDS = 10.0
EXCERPT = 1000
CONCURRENCY = 64  # requests of one batch in flight at once
BATCH = 200  # deliveries taken at once by one worker
CLAIM_LEASE = timedelta(seconds=60)
# an idle connection is closed well before servers close theirs (uvicorn: 5 s), so a POST rarely meets one that
# the server is closing (aiohttp does not retry a POST; the delivery would wait for its first retry)
KEEPALIVE_SECONDS = 2.0


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    error: str
    retry_in: float | None  # seconds, or None when there is nothing more to try


def subscribers(session: Session, event: WebhookEvent) -> list[WebhookEndpoint]:
    """Enabled endpoints of the event's organization and of every organization above it that want the type."""
    listening = _listening(session, {event.organization_id})[event.organization_id]
    return [e for e in listening if event.type in (e.event_types or [])]


def _listening(session: Session, organization_ids: set[int]) -> dict[int, list[WebhookEndpoint]]:
    """Enabled endpoints of each organization and of every organization above it: the chains read a level at a
    time for all of them and the endpoints in one query (a burst's events come from hundreds of organizations)."""
    parents: dict[int, int | None] = {}
    wanted = set(organization_ids)
    for _ in range(16):
        wanted -= parents.keys()
        if not wanted:
            break
        rows = session.exec(
            select(col(Organization.id), col(Organization.parent_id)).where(col(Organization.id).in_(wanted))
        ).all()
        parents.update({i: parent for i, parent in rows if i is not None})
        wanted = {parent for i, parent in rows if parent is not None}
    chains: dict[int, set[int]] = {}
    for organization_id in organization_ids:
        chain: set[int] = set()
        current: int | None = organization_id
        while current is not None and current in parents and current not in chain:
            chain.add(current)
            current = parents[current]
        chains[organization_id] = chain
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.organization_id).in_(set().union(*chains.values())), col(WebhookEndpoint.enabled)
        )
    ).all()
    return {o: [e for e in endpoints if e.organization_id in chain] for o, chain in chains.items()}


_EVENTS = select(col(WebhookEvent.id), col(WebhookEvent.organization_id), col(WebhookEvent.type))


def fan_out(event_id: int) -> list[int]:
    """The event's deliveries (see fan_out_pending); returns the new ones."""
    with session_scope() as session:
        return _fan_out_events(session, list(session.exec(_EVENTS.where(col(WebhookEvent.id) == event_id)).all()))


def fan_out_pending(limit: int = 500) -> list[int]:
    """Every event not fanned out yet, at once: under a burst the pump takes the events of many jobs in one
    transaction and one batch. Row locks (SKIP LOCKED) keep two consumers from taking the same events; doing one
    twice would be harmless anyway."""
    with session_scope() as session:
        pending = _EVENTS.where(col(WebhookEvent.fanned_out_at).is_(None)).order_by(col(WebhookEvent.id)).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            pending = pending.with_for_update(skip_locked=True)
        return _fan_out_events(session, list(session.exec(pending).all()))


def _fan_out_events(session: Session, events: list[tuple[int | None, int, str]]) -> list[int]:
    """A delivery per event and subscribed endpoint, in one INSERT that skips the ones made already (however
    often this runs), and the events marked in one UPDATE; returns the new deliveries. Events are read as
    (id, organization, type) rows: loading their payloads as objects was most of a burst's fan-out time."""
    if not events:
        return []
    now, rows = utcnow(), []
    listening = _listening(session, {organization_id for _id, organization_id, _type in events})
    for event_id, organization_id, type_ in events:
        for endpoint in listening[organization_id]:
            if type_ in (endpoint.event_types or []):
                rows.append(
                    {
                        "endpoint_id": key(endpoint),
                        "event_id": event_id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_error": "",
                        "created_at": now,
                    }
                )
    session.execute(
        update(WebhookEvent).where(col(WebhookEvent.id).in_([e[0] for e in events])).values(fanned_out_at=now)
    )
    if not rows:
        return []
    table = table_of(WebhookDelivery)
    insert = upsert_insert(session, WebhookDelivery)
    statement = insert.on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
    return [int(i) for i in session.execute(statement.returning(table.c.id), rows).scalars()]


def sign(endpoint: WebhookEndpoint, msg_id: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation's overlap the old secret signs too (space-separated)."""
    return _Signer(endpoint).headers(msg_id, body)


class _Signer:
    """An endpoint's secrets decrypted once for a whole batch (hundreds of deliveries to a few endpoints)."""

    def __init__(self, endpoint: WebhookEndpoint) -> None:
        now = utcnow()
        self.webhooks = [Webhook(decrypt(endpoint.secret_encrypted))]
        if (
            endpoint.previous_secret_encrypted
            and endpoint.previous_secret_until
            and endpoint.previous_secret_until > now
        ):
            self.webhooks.append(Webhook(decrypt(endpoint.previous_secret_encrypted)))

    def headers(self, msg_id: str, body: str) -> dict[str, str]:
        now = utcnow()
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(w.sign(msg_id, now, body) for w in self.webhooks),
            "content-type": "application/json",
            "user-agent": "portal-webhooks/1",
        }


@dataclass(frozen=True)
class _Send:
    delivery_id: int
    url: str
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class _Sent:
    delivery_id: int
    headers: dict[str, str]
    status: int | None
    excerpt: str
    error: str
    duration_ms: int


def _target(url: str, checked: dict[str, Target | Refused]) -> Target | Refused:
    """The URL's address, checked once per batch and host (every delivery of a batch leaves at the same moment)."""
    if url not in checked:
        try:
            checked[url] = resolve(url)
        except Refused as exc:
            checked[url] = exc
    return checked[url]


async def _post(
    client: aiohttp.ClientSession, send: _Send, target: Target | Refused, limit: asyncio.Semaphore
) -> _Sent:
    """To exactly the address checked now (its name kept for Host and TLS), never following a redirect."""
    if isinstance(target, Refused):
        return _Sent(send.delivery_id, send.headers, None, "", f"refused: {target}", 0)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    address = f"[{target.address}]" if ":" in target.address else target.address
    parts = urlsplit(send.url)
    rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    async with limit:
        started = time.perf_counter()
        try:
            async with client.post(
                f"{target.scheme}://{address}:{target.port}{rest}",
                data=send.body.encode(),
                headers={**send.headers, "host": host_header},
                allow_redirects=False,
                server_hostname=target.host if target.scheme == "https" else None,  # SNI and the certificate's name
            ) as response:
                excerpt = (await response.content.read(EXCERPT)).decode(errors="replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            took = int((time.perf_counter() - started) * 1000)
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return _Sent(send.delivery_id, send.headers, None, "", error[:500], took)
    took = int((time.perf_counter() - started) * 1000)
    return _Sent(send.delivery_id, send.headers, status, excerpt, "", took)


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Built once: loading the trust store for every batch's client took longer than sending the batch."""
    return ssl.create_default_context()


class _Client(threading.local):
    """Each worker thread's event loop and HTTP client, kept from batch to batch so connections to busy endpoints
    are reused (bench/api.py: opening them again for every batch was a third of a delivery's cost)."""

    runner: asyncio.Runner | None = None
    session: aiohttp.ClientSession | None = None
    tls: ssl.SSLContext | None = None  # the trust the session was made with (a new one makes a new session)


_client = _Client()


def _send_all(sends: list[_Send]) -> list[_Sent]:
    if _client.runner is None:
        _client.runner = asyncio.Runner()
    return _client.runner.run(_post_all(sends))


async def _post_all(sends: list[_Send]) -> list[_Sent]:
    """A batch's requests at once over the thread's aiohttp session (bench/api.py: about ten times the deliveries
    a second of httpx's async client on the same core, which spent most of its time in its connection pool).
    Pooled connections are keyed by address and TLS name, and every batch connects to the address it checked."""
    checked: dict[str, Target | Refused] = {}
    targets = [_target(send.url, checked) for send in sends]
    limit = asyncio.Semaphore(CONCURRENCY)
    tls = _tls()
    if _client.session is None or _client.session.closed or _client.tls is not tls:
        if _client.session is not None:
            await _client.session.close()
        _client.tls = tls
        connector = aiohttp.TCPConnector(
            ssl=tls, limit=CONCURRENCY, use_dns_cache=False, keepalive_timeout=KEEPALIVE_SECONDS
        )
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        _client.session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
    client = _client.session
    return list(await asyncio.gather(*(_post(client, s, t, limit) for s, t in zip(sends, targets, strict=True))))


def _prepare(delivery_ids: list[int], replay: bool) -> tuple[list[_Send], dict[int, Outcome]]:
    """What to send, signed now; deliveries that are not due (or whose endpoint was disabled) are settled here.
    Each endpoint's secret is decrypted and each event's body encoded once for the batch."""
    sends: list[_Send] = []
    settled: dict[int, Outcome] = {}
    with session_scope() as session:
        rows = session.exec(
            select(col(WebhookDelivery.id), col(WebhookDelivery.status), WebhookEndpoint, col(WebhookDelivery.event_id))
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .where(col(WebhookDelivery.id).in_(delivery_ids))
        ).all()
        wanted = {event_id for delivery_id, status, endpoint, event_id in rows if endpoint.enabled}
        bodies = {
            event_id: (msg_id, json.dumps(payload, separators=(",", ":"), sort_keys=True))
            for event_id, msg_id, payload in session.exec(
                select(col(WebhookEvent.id), col(WebhookEvent.msg_id), col(WebhookEvent.payload)).where(
                    col(WebhookEvent.id).in_(wanted)
                )
            ).all()
        }
        signers: dict[int, _Signer] = {}
        skipped: list[int] = []
        for delivery_id, status, endpoint, event_id in rows:
            assert delivery_id is not None  # a stored row's key
            if status != "pending" and not replay:
                continue
            if not endpoint.enabled:
                skipped.append(delivery_id)
                settled[delivery_id] = Outcome(False, None, "endpoint disabled", None)
                continue
            if key(endpoint) not in signers:
                signers[key(endpoint)] = _Signer(endpoint)
            msg_id, body = bodies[event_id]
            sends.append(_Send(delivery_id, endpoint.url.strip(), signers[key(endpoint)].headers(msg_id, body), body))
        if skipped:
            session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(skipped))
                .values(status="skipped", next_attempt_at=None, last_error="endpoint disabled")
            )
    return sends, settled


def _record(sent: list[_Sent]) -> dict[int, Outcome]:
    """Every attempt logged and its delivery moved on, in one transaction (bulk statements: a batch is hundreds)."""
    outcomes: dict[int, Outcome] = {}
    settings = get_settings()
    now = utcnow()
    with session_scope() as session:
        current = {
            int(i): (int(attempts), int(endpoint_id))
            for i, attempts, endpoint_id in session.execute(
                sa_select(
                    col(WebhookDelivery.id), col(WebhookDelivery.attempts), col(WebhookDelivery.endpoint_id)
                ).where(col(WebhookDelivery.id).in_([s.delivery_id for s in sent]))
            ).all()
        }
        endpoints = {
            key(e): e
            for e in session.exec(
                select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_({e for _a, e in current.values()}))
            ).all()
        }
        attempts: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for result in sent:
            if result.delivery_id not in current:
                continue
            tries, endpoint_id = current[result.delivery_id]
            endpoint = endpoints[endpoint_id]
            delivered = result.status is not None and 200 <= result.status < 300
            error = result.error or ("" if delivered else f"HTTP {result.status}")
            attempts.append(
                {
                    "delivery_id": result.delivery_id,
                    "attempted_at": now,
                    "request_headers": {k: v for k, v in result.headers.items() if k != "webhook-signature"},
                    "status_code": result.status,
                    "response_excerpt": result.excerpt,
                    "duration_ms": result.duration_ms,
                    "error": error,
                }
            )
            change: dict[str, Any] = {
                "id": result.delivery_id,
                "attempts": tries + 1,
                "last_status_code": result.status,
                "last_error": error[:500],
            }
            retry_in: float | None = None
            if delivered:
                change.update(status="succeeded", delivered_at=now, next_attempt_at=None)
                endpoint.consecutive_failures = 0
            else:
                endpoint.consecutive_failures += 1
                if tries < len(RETRY_DELAYS):
                    retry_in = RETRY_DELAYS[tries] * settings.webhook_retry_scale
                    change.update(status="pending", next_attempt_at=now + timedelta(seconds=retry_in))
                else:
                    change.update(status="failed", next_attempt_at=None)
                if endpoint.enabled and endpoint.consecutive_failures >= settings.webhook_disable_after:
                    _disable(session, endpoint)
                if not endpoint.enabled:
                    retry_in = None
            changes.append(change)
            outcomes[result.delivery_id] = Outcome(delivered, result.status, error, retry_in)
        if attempts:
            session.execute(sa_insert(table_of(WebhookAttempt)), attempts)
            for shape in {tuple(sorted(c)) for c in changes}:  # one executemany per set of columns
                session.execute(update(WebhookDelivery), [c for c in changes if tuple(sorted(c)) == shape])
        session.add_all(endpoints.values())
    return outcomes


def deliver_many(delivery_ids: list[int], *, replay: bool = False) -> dict[int, Outcome]:
    """One attempt of each delivery (the due ones, or any when replayed), sent concurrently; each outcome logged
    and its retry time set. Returns the outcomes by delivery id."""
    if not delivery_ids:
        return {}
    sends, settled = _prepare(delivery_ids, replay)
    if not sends:
        return settled
    return {**settled, **_record(_send_all(sends))}


def deliver(delivery_id: int, *, replay: bool = False) -> Outcome | None:
    return deliver_many([delivery_id], replay=replay).get(delivery_id)


def claim(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due deliveries for this worker: their next attempt moves a lease ahead, so no other
    worker takes them meanwhile (the outcome then sets it right; a worker that dies leaves them due again)."""
    now = utcnow()
    with session_scope() as session:
        due = (
            select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.status) == "pending", col(WebhookDelivery.next_attempt_at) <= now)
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [i for i in session.exec(due).all() if i is not None]
        if not ids:
            return []
        claimed = session.execute(  # RETURNING: only what this worker moved (SQLite has no row locks)
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id).in_(ids),
                col(WebhookDelivery.status) == "pending",
                col(WebhookDelivery.next_attempt_at) <= now,
            )
            .values(next_attempt_at=now + CLAIM_LEASE)
            .returning(col(WebhookDelivery.id))
        )
        return [int(i) for i in claimed.scalars()]


def pump(rounds: int = 20) -> dict[int, Outcome]:
    """Deliver whatever is due, a batch at a time: under load one job sends the deliveries of many events at
    once (one transaction to take them, one to record them, the requests concurrent)."""
    outcomes: dict[int, Outcome] = {}
    for _ in range(rounds):
        ids = claim(BATCH)
        if not ids:
            break
        outcomes.update(deliver_many(ids))
    return outcomes


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
