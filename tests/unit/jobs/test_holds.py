"""Holds in the queue's storage: one pump at a time, a killed holder's hold taken over, nothing left unsent."""

from __future__ import annotations

import time

import pytest

from services.jobs import queue
from services.jobs.queue import release_hold, try_hold


def test_a_hold_is_taken_once_until_let_go() -> None:
    assert try_hold("test.one", stale_after=60)
    assert not try_hold("test.one", stale_after=60)
    assert try_hold("test.two", stale_after=60)  # each name its own
    release_hold("test.one")
    assert try_hold("test.one", stale_after=60)


def test_a_hold_whose_holder_was_killed_is_taken_over() -> None:
    queue.huey.put("hold:test.stale", str(time.time() - 120).encode())
    assert try_hold("test.stale", stale_after=60)
    assert not try_hold("test.stale", stale_after=60)


def test_an_event_committed_while_another_pump_holds_is_sent_by_that_pump(
    db,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The worst moment: the event is committed just after the holder's last round found nothing to fan out."""
    from services.webhooks import delivery, outbox, tasks

    committed: list[int] = [1]  # events not fanned out yet
    pending: list[int] = []  # their deliveries, due
    sent: list[int] = []
    pumps: list[list[int]] = []

    def fan_out_pending(limit: int = 500) -> list[int]:
        made = list(committed)
        committed.clear()
        pending.extend(made)
        return made

    def pump(rounds: int = 20) -> dict[int, delivery.Outcome]:
        batch = list(pending)
        pumps.append(batch)
        if not batch and 2 not in committed + pending + sent:
            committed.append(2)
            tasks.fan_out_event.call_local(2)  # the new event's job, now: the hold is taken, so it does nothing
        for item in batch:
            pending.remove(item)
            sent.append(item)
        return {item: delivery.Outcome(True, 204, "", None) for item in batch}

    monkeypatch.setattr(delivery, "fan_out_pending", fan_out_pending)
    monkeypatch.setattr(delivery, "pump", pump)
    monkeypatch.setattr(delivery, "due", lambda session, limit=500: list(pending))
    monkeypatch.setattr(outbox, "waiting", lambda session: bool(committed))
    tasks.fan_out_event.call_local(1)
    assert sent == [1, 2]
    assert pumps == [[1], [], [2], []]  # the second job never pumped; the holder looked again after letting go
    assert try_hold(tasks.PUMP_HOLD, stale_after=60)  # and nothing is left holding
