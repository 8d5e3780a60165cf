"""Usage the gateway has seen but the portal has not yet acknowledged, on disk until it has.

Each record is written (SQLite, WAL) before the customer's response leaves the gateway, keyed by LiteLLM's call
id, so a record written twice is kept once and a gateway killed mid-burst sends, after its restart, exactly what
it had not yet delivered. A thread sends batches to the portal and deletes what the portal acknowledged (the
portal is idempotent by call id too, so a batch resent after a lost answer counts nothing twice).

It also answers "how much has this key spent that the portal's budget counter does not show yet", which the
auth hook adds to the counter so the request after the one that crosses 100 % is refused at once."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger("portal_gateway.spool")
BATCH = 500
MAX_BACKOFF = 30.0


class Spool:
    def __init__(self, path: Path, portal_url: str, secret: str, flush_seconds: float = 0.5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives the process being killed, which is the risk here
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, "
            "cost_micros INTEGER NOT NULL, body TEXT NOT NULL, added REAL NOT NULL)"
        )
        self._lock = threading.Lock()
        self._unsent: dict[str, int] = defaultdict(int)
        for key_hash, cost in self._db.execute("SELECT key_hash, SUM(cost_micros) FROM pending GROUP BY key_hash"):
            self._unsent[key_hash] = cost
        self._url = f"{portal_url}/api/gateway/usage"
        self._secret = secret
        self._interval = flush_seconds
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, record_id: str, key_hash: str, cost_micros: int, body: dict[str, Any]) -> None:
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO pending (id, key_hash, cost_micros, body, added) VALUES (?, ?, ?, ?, ?)",
                (record_id, key_hash, cost_micros, json.dumps(body), time.time()),
            ).rowcount
            if inserted:
                self._unsent[key_hash] += cost_micros
        self._wake.set()

    def unsent_micros(self, key_hash: str) -> int:
        return self._unsent.get(key_hash, 0)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="portal-usage-spool", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def _run(self) -> None:
        backoff = self._interval
        with httpx.Client(timeout=30.0) as client:
            while not self._stopped.is_set():
                self._wake.wait(backoff)
                self._wake.clear()
                try:
                    while self.flush(client):
                        pass
                    backoff = self._interval
                except (httpx.HTTPError, RuntimeError) as exc:
                    backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                    log.warning("usage not delivered to the portal yet (%s); retrying in %.0f s", exc, backoff)

    def flush(self, client: httpx.Client) -> bool:
        """Send one batch; True when a full batch went (more may wait)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key_hash, cost_micros, body FROM pending ORDER BY added LIMIT ?", (BATCH,)
            ).fetchall()
        if not rows:
            return False
        answer = client.post(
            self._url,
            json={"records": [json.loads(body) for _id, _hash, _cost, body in rows]},
            headers={"Authorization": f"Bearer {self._secret}"},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the portal answered {answer.status_code}: {answer.text[:200]}")
        for rejected in answer.json().get("rejected", []):
            log.error("the portal rejected usage record %s: %s", rejected.get("id"), rejected.get("error"))
        with self._lock:
            self._db.executemany("DELETE FROM pending WHERE id = ?", [(r[0],) for r in rows])
            for _id, key_hash, cost, _body in rows:
                self._unsent[key_hash] -= cost
                if self._unsent[key_hash] <= 0:
                    del self._unsent[key_hash]
        return len(rows) == BATCH
