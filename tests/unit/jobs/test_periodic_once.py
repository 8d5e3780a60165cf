"""Periodic jobs run once per period however many consumers schedule them; a run by hand always runs."""

from __future__ import annotations

from services.jobs.queue import claim_period


def test_the_first_claim_of_a_period_wins_and_the_next_period_is_claimed_anew() -> None:
    now = 1_800_000_030.0
    assert claim_period("services.test.job", 60, now=now)
    assert not claim_period("services.test.job", 60, now=now + 10)  # same minute: another consumer's run
    assert claim_period("services.test.other", 60, now=now)  # each job has its own periods
    assert claim_period("services.test.job", 60, now=now + 60)


def test_a_scheduled_run_skips_a_claimed_period_but_call_local_always_runs(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from services.billing import tasks

    ran: list[str] = []
    monkeypatch.setattr(tasks, "enforce_timeline", lambda session: ran.append("timeline"))
    tasks.enforce_billing_timeline()  # as the scheduler enqueues it (the queue runs inline in tests)
    tasks.enforce_billing_timeline()  # a second consumer's scheduler, the same five minutes
    assert ran == ["timeline"]
    tasks.enforce_billing_timeline.call_local()  # by hand: always runs
    assert ran == ["timeline", "timeline"]
