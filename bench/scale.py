"""Many browsers at once (issue: Production), on PostgreSQL and Redis.

A load generator that speaks Reflex's websocket event protocol (socket.io on /_event, the way the compiled
frontend does: the hydrate event with the browser's stored session token in the CONNECT packet, then one state
event at a time) opens BENCH_SESSIONS (200) signed-in dashboard sessions, one customer each. Every session sends
one state event every 2 seconds for BENCH_SECONDS (60): the dashboard's status refresh (DashboardState.load) and
the usage page (UsageState.load), in turn. A round trip is the time from sending the event to the update that
says it is final.

The same run measures one web process and two, each behind nginx (so the only difference is the process count),
sharing Reflex's state in Redis and the data in PostgreSQL, as `tests/support/scaled.py` starts them. Prints:
  sessions: 200
  one web process event round trip p50 / p95 / p99: X ms, events/s, errors, p95 of each page's event
  two web processes event round trip p50 / p95 / p99: X ms, events/s, errors, p95 of each page's event
  ratio events/s two to one: R
An error is a session that could not connect or sign in, a dropped connection, or an event not answered in 10 s.

Needs PostgreSQL (BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a database
portal_bench_scale is created and dropped), Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/0) and nginx.
Run: .venv/bin/python bench/scale.py
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import socketio
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bench._support import percentile, project_env, temp_var
from bench._tenants import create_customers, drop_database, recreate_database
from services.accounts.passwords import hash_password
from services.accounts.sessions import create_session
from services.models import Organization, OrgKind, Plan
from tests.support.env import drop_queue
from tests.support.scaled import scaled_env, scaled_portal
from tests.support.servers import free_port, run_setup

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
INTERVAL = 2.0
ANSWER_TIMEOUT = 10.0
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DB_NAME = "portal_bench_scale"

ROOT_STATE = "reflex___state____state"
AUTH_TOKEN_VAR = f"{ROOT_STATE}.portal___state___auth____auth_state.auth_token_rx_state_"
DASHBOARD = f"{ROOT_STATE}.portal___state___dashboard____dashboard_state"
EVENTS = [(f"{DASHBOARD}.load", {}), (f"{ROOT_STATE}.portal___state___usage____usage_state.load", {"page": 1})]
PAGES = {EVENTS[0][0]: "dashboard", EVENTS[1][0]: "usage page"}  # p95 by page: which one makes the tail
NAMESPACE = "/_event"  # the compiled frontend connects to <backend>/_event: socket.io takes the path for both
ROUTER = {"pathname": "/dashboard", "asPath": "/dashboard"}


@dataclass
class Tally:
    round_trips: list[float] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)  # the same round trips, by the event's page
    errors: int = 0
    answered: int = 0


class Browser:
    """One tab: a socket.io connection with its own client token, signed in by its stored session token."""

    def __init__(self, url: str, session_token: str, tally: Tally) -> None:
        self.url, self.session_token, self.tally = url, session_token, tally
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("event", self._update, namespace=NAMESPACE)
        self.client.on("disconnect", self._dropped, namespace=NAMESPACE)
        self._final: asyncio.Future[dict] | None = None
        self.signed_in = False
        self.closing = False

    async def _update(self, update: dict) -> None:
        view = (update.get("delta") or {}).get(DASHBOARD, {}).get("view_rx_state_")
        if view and view.get("instance_id"):
            self.signed_in = True
        if update.get("final", True) and self._final is not None and not self._final.done():
            self._final.set_result(update)

    async def _dropped(self, *_args: object) -> None:
        if not self.closing:
            self.tally.errors += 1

    async def open(self) -> bool:
        """Connect with the hydrate event in the CONNECT packet, as the frontend does; True once signed in."""
        boot = {
            "name": f"{ROOT_STATE}.hydrate_and_load",
            "payload": {"vars": {AUTH_TOKEN_VAR: self.session_token}},
            "router_data": ROUTER,
        }
        self._final = asyncio.get_running_loop().create_future()
        try:
            await self.client.connect(
                f"{self.url}?token={uuid.uuid4()}",
                socketio_path="_event",
                namespaces=[NAMESPACE],
                transports=["websocket"],
                auth={"event": boot},
                wait_timeout=ANSWER_TIMEOUT,
            )
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while not self.signed_in and time.monotonic() < deadline:  # hydrate, then the page's on_load events
                await asyncio.sleep(0.05)
        except (socketio.exceptions.ConnectionError, OSError) as exc:
            if os.environ.get("BENCH_DEBUG"):
                print(f"connect failed: {exc!r}", file=sys.stderr)
        if not self.signed_in:
            self.tally.errors += 1
        return self.signed_in

    async def send(self, name: str, payload: dict, measure: bool) -> None:
        self._final = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            await self.client.emit(
                "event", {"name": name, "payload": payload, "router_data": ROUTER}, namespace=NAMESPACE
            )
            await asyncio.wait_for(self._final, ANSWER_TIMEOUT)
        except (TimeoutError, socketio.exceptions.BadNamespaceError):
            if measure:
                self.tally.errors += 1
            return
        if measure:
            self.tally.round_trips.append(time.perf_counter() - started)
            self.tally.by_page.setdefault(PAGES[name], []).append(time.perf_counter() - started)
            self.tally.answered += 1

    async def run(self, until: float) -> None:
        await asyncio.sleep(random.uniform(0, INTERVAL))  # spread over the interval, as people arrive
        turn = 0
        while time.monotonic() < until:
            due = time.monotonic() + INTERVAL
            name, payload = EVENTS[turn % len(EVENTS)]
            await self.send(name, payload, measure=True)
            turn += 1
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def close(self) -> None:
        self.closing = True
        await self.client.disconnect()


async def _load(url: str, tokens: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    browsers = [Browser(url, token, tally) for token in tokens]
    for start in range(0, len(browsers), 20):  # connect in waves, not a thundering herd
        await asyncio.gather(*(b.open() for b in browsers[start : start + 20]))
    for browser in browsers:  # one unmeasured event each warms every process's caches
        await browser.send(*EVENTS[0], measure=False)
    # An event that changes nothing gets no answer from Reflex; the pages' "as of" times change every second, so
    # a session's events are at least a second apart (they are 2 s apart in the run itself).
    await asyncio.sleep(1.1)
    started = time.monotonic()
    await asyncio.gather(*(b.run(started + SECONDS) for b in browsers if b.signed_in))
    elapsed = time.monotonic() - started
    await asyncio.gather(*(b.close() for b in browsers))
    return tally, elapsed


def _customers(database_url: str) -> list[str]:
    """SESSIONS customers of the platform, each with an instance and a signed-in session; their tokens."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        platform = session.exec(select(Organization).where(Organization.kind == OrgKind.PLATFORM)).one()
        plan = session.exec(select(Plan).where(Plan.organization_id == platform.id)).first()
        people = create_customers(session, [(platform, plan)], SESSIONS, hash_password("bench-password-1"), "ws")
        tokens = [create_session(session, user_id, ip="127.0.0.1", user_agent="bench/scale") for user_id, _ in people]
        session.commit()
    engine.dispose()
    return tokens


def _report(label: str, tally: Tally, elapsed: float) -> float:
    rate = tally.answered / elapsed if elapsed else 0.0
    trips = [t * 1000 for t in tally.round_trips] or [float("nan")]
    print(f"{label} event round trip p50: {percentile(trips, 50):.1f} ms")
    print(f"{label} event round trip p95: {percentile(trips, 95):.1f} ms")
    print(f"{label} event round trip p99: {percentile(trips, 99):.1f} ms")
    print(f"{label} events/s: {rate:.1f} events/s")
    print(f"{label} errors: {tally.errors} errors")
    for page, times in sorted(tally.by_page.items()):
        print(f"{label} {page} event round trip p95: {percentile([t * 1000 for t in times], 95):.1f} ms")
    return rate


def main() -> None:
    database_url = recreate_database(DB_NAME)
    queue = f"portal-bench-scale-{uuid.uuid4().hex[:6]}"
    rates: dict[int, float] = {}
    try:
        for processes, label in ((1, "one web process"), (2, "two web processes")):
            root = temp_var()
            edge = free_port()
            env = scaled_env(
                project_env(root / "var", DATABASE_URL=database_url, JOBS_QUEUE_NAME=queue, PROXY_BACKEND="none"),
                edge,
                REDIS_URL,
            )
            if not rates:
                run_setup(env)
                tokens = _customers(database_url)
                print(f"sessions: {len(tokens)}")
            with scaled_portal(env, root, web_processes=processes, jobs=False) as running:
                tally, elapsed = asyncio.run(_load(running.url, tokens))
            rates[processes] = _report(label, tally, elapsed)
        print(f"ratio events/s two to one: {rates[2] / rates[1]:.2f} ratio")
    finally:
        drop_queue(REDIS_URL, queue)
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
