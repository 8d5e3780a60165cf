"""Stores verified Stripe events with group commit: one writer thread, one transaction per batch.

Fifty senders at once would otherwise queue behind SQLite's single writer one commit at a time; batching
keeps the acknowledgement fast (one commit serves every event that arrived meanwhile) on SQLite and PostgreSQL
alike. A caller returns only after its event is committed, so an acknowledged event is never lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from services.db import get_engine
from services.models import StripeEvent
from services.models.base import utcnow

log = logging.getLogger(__name__)

MAX_BATCH = 500
LOCK_WAIT_SECONDS = 30
_table = StripeEvent.__table__  # type: ignore[attr-defined]


class EventStore:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[dict[str, Any], Future[bool]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, event: dict[str, Any]) -> Future[bool]:
        """Future resolves to True for a new event, False for a duplicate; raises if it could not be stored."""
        self._ensure_thread()
        future: Future[bool] = Future()
        self._queue.put((event, future))
        return future

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
                new_ids = self._write([event for event, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting request gets the error (and answers 500)
                log.exception("storing %d Stripe events failed", len(batch))
                for _, future in batch:
                    future.set_exception(exc)
                continue
            enqueue_handling(sorted(new_ids))  # queued before anyone is told "stored"
            claimed: set[str] = set()
            for event, future in batch:
                is_new = event["id"] in new_ids and event["id"] not in claimed
                claimed.add(event["id"])
                future.set_result(is_new)

    def _write(self, events: list[dict[str, Any]]) -> set[str]:
        engine = get_engine(sqlite_busy_timeout_ms=0)
        insert = (sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert)(_table)
        now = utcnow()
        rows = list({e["id"]: {"stripe_id": e["id"], "type": e["type"][:100], "payload": e, "status": "pending",
                               "attempts": 0, "received_at": now} for e in reversed(events)}.values())
        statement = insert.on_conflict_do_nothing(index_elements=["stripe_id"]).returning(_table.c.stripe_id)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                with engine.begin() as connection:
                    return set(connection.execute(statement, rows).scalars().all())
            except OperationalError as exc:
                # SQLite: the job consumer holds the write lock. Ask again within a millisecond instead of
                # SQLite's busy handler, which sleeps in steps of up to 100 ms and can miss every gap.
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)


JOB_CHUNK = 20


def enqueue_handling(stripe_ids: list[str]) -> None:
    """One job per chunk of a batch: a burst costs a few queue writes, not one per event (on SQLite each is a
    commit the consumer competes for). A failing event inside a chunk is re-queued on its own, with retries."""
    from services.jobs.tasks import handle_stripe_events

    for start in range(0, len(stripe_ids), JOB_CHUNK):
        chunk = stripe_ids[start:start + JOB_CHUNK]
        try:
            handle_stripe_events(chunk)
        except Exception:  # noqa: BLE001 - stored as pending: the periodic sweep enqueues them again
            log.exception("could not enqueue Stripe events %s; the periodic sweep will", chunk)


store = EventStore()
