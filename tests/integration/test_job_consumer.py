"""A real huey consumer process runs jobs and periodic tasks, on SQLite storage and on Redis storage."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.serve import consumer_command
from services.config import Settings
from services.jobs.heartbeat import HEARTBEAT_KEY
from services.jobs.queue import build_huey
from tests.support.env import PROJECT_ROOT, drop_queue, require_env
from tests.support.mailbox import outbox_messages
from tests.support.servers import project_env

PRODUCER = """
import json, sys
from email.message import EmailMessage
from services.jobs.heartbeat import record_ping
from services.mail.outgoing import deliver_email
result = record_ping(sys.argv[1])
message = EmailMessage()
message["Subject"], message["From"], message["To"] = "queued " + sys.argv[1], "a@example.com", "b@example.com"
message.set_content("sent by the consumer")
deliver_email(bytes(message))
print(json.dumps(result.get(blocking=True, timeout=30)))
"""


@pytest.fixture(params=["sqlite", "redis"])
def queue_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = project_env(tmp_path / "var", JOBS_QUEUE_NAME=f"portal-test-{uuid.uuid4().hex[:8]}")
    if request.param == "redis":
        env["REDIS_URL"] = require_env("PORTAL_TEST_REDIS_URL", "Redis")
    yield env
    if request.param == "redis":
        drop_queue(env["REDIS_URL"], env["JOBS_QUEUE_NAME"])


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        var_dir=Path(env["VAR_DIR"]),
        redis_url=env.get("REDIS_URL"),
        jobs_queue_name=env["JOBS_QUEUE_NAME"],
        jobs_immediate=False,
    )


def test_consumer_runs_jobs_and_periodic_tasks(queue_env: dict[str, str], tmp_path: Path) -> None:
    log = open(tmp_path / "consumer.log", "wb")
    consumer = subprocess.Popen(
        consumer_command(), cwd=PROJECT_ROOT, env=queue_env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        note = uuid.uuid4().hex
        produced = subprocess.run(
            [sys.executable, "-c", PRODUCER, note],
            cwd=PROJECT_ROOT,
            env=queue_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert produced.returncode == 0, produced.stderr
        result = json.loads(produced.stdout.strip().splitlines()[-1])
        assert result["note"] == note
        assert result["pid"] == consumer.pid  # run by the consumer process, not inline by the producer

        outbox = Path(queue_env["VAR_DIR"]) / "outbox"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (outbox.exists() and outbox_messages(outbox)):
            time.sleep(0.2)
        assert [m["Subject"] for m in outbox_messages(outbox)] == [f"queued {note}"]

        # The heartbeat is a periodic task: only the consumer's scheduler runs it.
        huey = build_huey(_settings(queue_env))
        assert huey.get(HEARTBEAT_KEY, peek=True) is not None
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
        log.close()


CLAIM = """
import sys
from services.jobs.queue import claim_period
print(claim_period("services.test.nightly", 60, now=float(sys.argv[1])))
"""


def test_a_periodic_job_runs_once_per_period_however_many_consumers_schedule_it(queue_env: dict[str, str]) -> None:
    """Four processes (as four consumers' schedulers would) claim the same minute at once: exactly one wins, on
    SQLite storage and on Redis alike; the next minute is claimed anew."""
    moment = str(time.time())
    claimants = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM, moment], cwd=PROJECT_ROOT, env=queue_env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    answers = sorted(process.communicate(timeout=60)[0].strip() for process in claimants)
    assert answers == ["False", "False", "False", "True"]
    next_minute = str(float(moment) + 60)
    again = subprocess.run(
        [sys.executable, "-c", CLAIM, next_minute], cwd=PROJECT_ROOT, env=queue_env, capture_output=True, text=True
    )
    assert again.stdout.strip() == "True", again.stderr
