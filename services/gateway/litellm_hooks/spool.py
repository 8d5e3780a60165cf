"""Usage the gateway has seen but the portal has not yet acknowledged, on disk until it has.

Each record is written (SQLite, WAL) before the customer's response leaves the gateway, keyed by LiteLLM's call
id, so a record written twice is kept once and a gateway killed mid-burst sends, after its restart, exactly what
it had not yet delivered. A thread sends batches to the portal and deletes what the portal acknowledged (the
portal is idempotent by call id too, so a batch resent after a lost answer counts nothing twice).

It also answers "how much has this key spent that the rules the hook just read do not count yet", which the auth
hook adds to the rules' budget counter so the request after the one that crosses 100 % is refused at once. The
portal answers each report with the version (`written_at`) of the rules it wrote after counting it: rules of that
version or later include it, older rules do not. While a report is on its way, rules written before it was sent
cannot include it, and rules written since are taken to (they almost always come from this report; the portal
and the gateway run beside each other, on one clock). Without this, a report would be counted twice in the moment
between the portal writing the new rules and this spool hearing back, and a key refused a request too early."""

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
        # per key, per record not yet in the rules the hook reads: [cost, sent at, rules version that counts it]
        self._open: dict[str, dict[str, list[float]]] = defaultdict(dict)
        for record_id, key_hash, cost in self._db.execute("SELECT id, key_hash, cost_micros FROM pending"):
            self._open[key_hash][record_id] = [cost, 0.0, 0.0]
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
                self._open[key_hash][record_id] = [cost_micros, 0.0, 0.0]
        self._wake.set()

    def uncounted_micros(self, key_hash: str, rules_version: float) -> int:
        """What this key spent that rules of `rules_version` do not include yet."""
        with self._lock:
            records = self._open.get(key_hash)
            if not records:
                return 0
            total = 0.0
            for record_id, (cost, sent_at, counted_from) in list(records.items()):
                if counted_from and rules_version >= counted_from:
                    del records[record_id]  # these rules, and every later version, include it
                elif counted_from or not sent_at or rules_version < sent_at:
                    total += cost
            return int(total)

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
        self._mark(rows, sent_at=time.time())
        try:
            answer = client.post(
                self._url,
                json={"records": [json.loads(body) for _id, _hash, _cost, body in rows]},
                headers={"Authorization": f"Bearer {self._secret}"},
            )
            if answer.status_code != 200:
                raise RuntimeError(f"the portal answered {answer.status_code}: {answer.text[:200]}")
        except BaseException:
            self._mark(rows, sent_at=0.0)  # not delivered: nobody counts it but us
            raise
        body = answer.json()
        for rejected in body.get("rejected", []):
            log.error("the portal rejected usage record %s: %s", rejected.get("id"), rejected.get("error"))
        versions = body.get("rules") or {}
        with self._lock:
            self._db.executemany("DELETE FROM pending WHERE id = ?", [(r[0],) for r in rows])
            for record_id, key_hash, _cost, _body in rows:
                version = versions.get(key_hash)
                entry = self._open.get(key_hash, {}).get(record_id)
                if entry is None:
                    continue
                if isinstance(version, int | float) and version > 0:
                    entry[2] = float(version)
                else:  # no rules for the key any more (revoked): nothing left to add
                    del self._open[key_hash][record_id]
        return len(rows) == BATCH

    def _mark(self, rows: list[tuple[str, str, int, str]], sent_at: float) -> None:
        with self._lock:
            for record_id, key_hash, _cost, _body in rows:
                entry = self._open.get(key_hash, {}).get(record_id)
                if entry is not None:
                    entry[1] = sent_at
