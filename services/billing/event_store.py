"""Stores verified Stripe events with group commit: one writer thread, one transaction per batch.

Fifty senders at once would otherwise queue behind SQLite's single writer one commit at a time; batching
keeps the acknowledgement fast (one commit serves every event that arrived meanwhile) on SQLite and PostgreSQL
alike. A caller returns only after its event is committed, so an acknowledged event is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from typing import Any, Union

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.exc import OperationalError

from services.billing.tasks import handle_stripe_events
from services.db import get_engine
from services.models import StripeEvent
from services.models.base import table_of, utcnow

log = logging.getLogger(__name__)

MAX_BATCH = 500
LOCK_WAIT_SECONDS = 30
_table = table_of(StripeEvent)


Waiter = Union["Future[bool]", "asyncio.Future[bool]"]


class EventStore:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[tuple[dict[str, Any], str], Waiter]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, event: dict[str, Any], raw_text: str | None = None) -> Future[bool]:
        """Future resolves to True for a new event, False for a duplicate; raises if it could not be stored.
        `raw_text` is the verified body (stored as received); without it the event is encoded again."""
        self._ensure_thread()
        future: Future[bool] = Future()
        self._queue.put(((event, raw_text or json.dumps(event)), future))
        return future

    async def store(self, event: dict[str, Any], raw_text: str) -> bool:
        """The route's form: a whole batch's requests are answered with one wake-up of their event loop instead
        of one cross-thread call (and one self-pipe write) each, which under load cost as much as the insert."""
        self._ensure_thread()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put(((event, raw_text), future))
        return await future

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stripe-event-store", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                new_ids = self._write([delivery for delivery, _ in batch])
            except Exception as exc:
                log.exception("storing %d Stripe events failed", len(batch))
                _settle([(waiter, exc) for _, waiter in batch])
                continue
            enqueue_handling(sorted(new_ids))  # queued before anyone is told "stored"
            answers = first_deliveries([event["id"] for (event, _), _ in batch], new_ids)
            _settle([(waiter, is_new) for (_, waiter), is_new in zip(batch, answers, strict=True)])

    def _write(self, events: list[tuple[dict[str, Any], str]]) -> set[str]:
        engine = get_engine(sqlite_busy_timeout_ms=0)
        statement, params = _insert(events)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                with engine.begin() as connection:
                    return set(connection.execute(statement, params).scalars().all())
            except OperationalError as exc:
                # SQLite: the job consumer holds the write lock. Ask again within a millisecond instead of
                # SQLite's busy handler, which sleeps in steps of up to 100 ms and can miss every gap.
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)


def _insert(events: list[tuple[dict[str, Any], str]]) -> tuple[TextClause, dict[str, Any]]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for a batch, the payload as the verified body.

    The ORM-level insert cost five times as much per event (it compiled the statement and encoded each payload
    to JSON a second time), and this thread shares the web worker's GIL with every request waiting on it."""
    unique = {event["id"]: (event, raw) for event, raw in reversed(events)}  # a batch's first delivery wins
    params: dict[str, Any] = {"now": utcnow()}
    values = []
    for n, (stripe_id, (event, raw)) in enumerate(unique.items()):
        params[f"id{n}"], params[f"type{n}"], params[f"payload{n}"] = stripe_id, event["type"][:100], raw
        values.append(f"(:id{n}, :type{n}, :payload{n}, 'pending', 0, :now)")
    statement = text(
        "INSERT INTO stripe_event (stripe_id, type, payload, status, attempts, received_at) VALUES "
        + ", ".join(values)
        + " ON CONFLICT (stripe_id) DO NOTHING RETURNING stripe_id"
    ).bindparams(bindparam("now", type_=_table.c.received_at.type))
    return statement, params


def first_deliveries(ids: list[str], new_ids: set[str]) -> list[bool]:
    """Per delivery of a batch: new only for the first delivery of an event this batch inserted."""
    claimed: set[str] = set()
    answers = []
    for stripe_id in ids:
        answers.append(stripe_id in new_ids and stripe_id not in claimed)
        claimed.add(stripe_id)
    return answers


def _settle(outcomes: list[tuple[Waiter, bool | BaseException]]) -> None:
    """Answer every waiter; the ones on an event loop get one call per loop, run in that loop's thread."""
    per_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = defaultdict(
        list
    )
    for waiter, outcome in outcomes:
        if isinstance(waiter, asyncio.Future):
            per_loop[waiter.get_loop()].append((waiter, outcome))
        else:
            _resolve(waiter, outcome)
    for loop, settled in per_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve_all, settled)


def _resolve_all(settled: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for waiter, outcome in settled:
        if not waiter.done():  # a request that timed out has gone
            _resolve(waiter, outcome)


def _resolve(waiter: Waiter, outcome: bool | BaseException) -> None:
    if isinstance(outcome, BaseException):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


JOB_CHUNK = 20


def enqueue_handling(stripe_ids: list[str]) -> None:
    """One job per chunk of a batch: a burst costs a few queue writes, not one per event (on SQLite each is a
    commit the consumer competes for). A failing event inside a chunk is re-queued on its own, with retries."""
    for start in range(0, len(stripe_ids), JOB_CHUNK):
        chunk = stripe_ids[start : start + JOB_CHUNK]
        try:
            handle_stripe_events(chunk)
        except Exception:
            log.exception("could not enqueue Stripe events %s; the periodic sweep will", chunk)


store = EventStore()
