"""The SQLite job storage wakes a waiting consumer when a job is committed, instead of leaving it to poll."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from services.jobs import wakeup
from services.jobs.wakeup import WakeupSqliteStorage


def _waiting_dequeue(storage: WakeupSqliteStorage) -> tuple[threading.Thread, list]:
    got: list = []

    def consume() -> None:
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            data = storage.dequeue()
            if data is not None:
                got.append((data, time.monotonic()))

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return thread, got


def test_a_committed_job_wakes_the_consumer_instead_of_waiting_out_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wakeup, "WAIT_SECONDS", 30.0)  # without a wake-up the consumer would sit for 30 s
    db = str(tmp_path / "huey.db")
    consumer = WakeupSqliteStorage(name="q", filename=db)
    producer = WakeupSqliteStorage(name="q", filename=db)  # another process in real life: its own connection
    assert consumer.dequeue() is None  # empty: binds its socket, looks once more, returns
    thread, got = _waiting_dequeue(consumer)
    time.sleep(0.2)  # the consumer is now waiting on its socket
    sent = time.monotonic()
    producer.enqueue(b"job-1")
    thread.join(timeout=5)
    assert got and got[0][0] == b"job-1" and got[0][1] - sent < 5  # woken, not timed out after 30 s


def test_without_a_listener_enqueue_still_commits_and_a_second_consumer_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wakeup, "WAIT_SECONDS", 0.05)
    monkeypatch.setattr(wakeup, "POLL_SECONDS", 0.01)
    db = str(tmp_path / "huey.db")
    producer = WakeupSqliteStorage(name="other", filename=db)
    producer.enqueue(b"nobody listening")  # no consumer bound yet: the datagram is dropped, the job is kept
    first, second = WakeupSqliteStorage(name="other", filename=db), WakeupSqliteStorage(name="other", filename=db)
    assert first.dequeue() == b"nobody listening"
    assert first.dequeue() is None and second.dequeue() is None  # first owns the socket, second polls
    producer.enqueue(b"for whoever looks")
    assert second.dequeue() == b"for whoever looks"
