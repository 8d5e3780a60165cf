"""The scaled shape's job consumers (huey on Redis, data in PostgreSQL): a consumer killed with SIGKILL in the
middle of a provisioning step loses no job and creates nothing twice; another consumer resumes the action at the
step it was in, a moment after the lease runs out (here 6 s to keep the suite quick; with the default 20 s that is
about 22 s, well within a minute; without the watchdog it took 62 s). And SIGTERM, what `docker stop` sends, lets
the running step finish before the job service exits (huey itself would stop at once on SIGTERM: portal.serve
asks its consumers with SIGINT, huey's graceful stop)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from sqlalchemy import create_engine, text

from portal.serve import consumer_command
from tests.support.databases import fresh_postgres_database
from tests.support.docker_env import TEST_IMAGE, Dockerd
from tests.support.env import PROJECT_ROOT, drop_queue, require_env
from tests.support.servers import project_env

SUBDOMAIN = "killed"
LEASE_SECONDS = 6
# an instance whose health path does not exist yet: its wait_healthy step runs until the test creates the file
REQUEST = f"""
from services import worker  # connects the engine to the queue on Redis
from services.db import session_scope
from services.provisioning import actions, engine
from tests.support.factories import customer_instance
with session_scope() as session:
    instance = customer_instance(session, "{SUBDOMAIN}", image="{TEST_IMAGE}", health_path="/later")
    action = engine.request_action(session, instance, actions.PROVISION)
    print(action.id)
"""


@pytest.fixture()
def scaled(dockerd: Dockerd, tmp_path: Path) -> Iterator[dict[str, str]]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    redis_url = require_env("PORTAL_TEST_REDIS_URL", "Redis")
    with fresh_postgres_database(server) as database_url:
        env = project_env(
            tmp_path / "var",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            JOBS_QUEUE_NAME=f"portal-kill-{uuid.uuid4().hex[:8]}",
            DOCKER_HOST=dockerd.host,
            PROXY_BACKEND="none",
            INSTANCE_SCHEME="http",
            PROVISION_HEALTH_TIMEOUT_SECONDS="120",
        )
        env["PROVISION_LEASE_SECONDS"] = str(LEASE_SECONDS)
        alembic = str(Path(sys.executable).parent / "alembic")
        subprocess.run([alembic, "upgrade", "head"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
        try:
            yield env
        finally:
            drop_queue(redis_url, env["JOBS_QUEUE_NAME"])
            for container in dockerd.client().containers.list(all=True, filters={"name": f"portal-{SUBDOMAIN}"}):
                container.remove(force=True)


def _consumer(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as handle:
        return subprocess.Popen(consumer_command(), cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def _rows(database_url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def _wait_for(what: str, check, timeout: float, log: Path) -> object:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; consumer log:\n{log.read_text(errors='replace')[-4000:]}")


def test_a_consumer_killed_mid_step_loses_nothing_and_creates_nothing_twice(
    scaled: dict[str, str], dockerd: Dockerd, tmp_path: Path
) -> None:
    log = tmp_path / "consumers.log"
    database_url = scaled["DATABASE_URL"]
    first = _consumer(scaled, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        requested = subprocess.run(
            [sys.executable, "-c", REQUEST], cwd=PROJECT_ROOT, env=scaled, capture_output=True, text=True, timeout=60
        )
        assert requested.returncode == 0, requested.stderr
        action_id = requested.stdout.strip().splitlines()[-1]
        running_step = "SELECT step FROM provisioning_step WHERE action_id = :a AND status = 'running'"
        _wait_for(
            "wait_healthy to run",
            lambda: _rows(database_url, running_step, a=action_id) == [("wait_healthy",)],
            60,
            log,
        )

        os.kill(first.pid, signal.SIGKILL)  # mid-step: nothing in the consumer gets to record anything
        killed_at = time.monotonic()
        first.wait(timeout=10)
        second = _consumer(scaled, log)
        container = dockerd.client().containers.get(f"portal-{SUBDOMAIN}")
        assert container.exec_run(["sh", "-c", "echo ok > /www/later"]).exit_code == 0  # now it can pass

        status = "SELECT status FROM provisioning_action WHERE id = :a"
        _wait_for(
            "the action to succeed", lambda: _rows(database_url, status, a=action_id) == [("succeeded",)], 90, log
        )
        resumed_after = time.monotonic() - killed_at
    finally:
        for consumer in (first, second):
            if consumer is not None and consumer.poll() is None:
                consumer.send_signal(signal.SIGINT)
                consumer.wait(timeout=30)

    # the lease, the watchdog's slack, the resumed health check and the polling here; the minute-long periodic
    # sweep alone would take up to a minute more
    assert resumed_after < LEASE_SECONDS + 12, f"resumed only after {resumed_after:.0f} s"
    steps = _rows(
        database_url,
        "SELECT step, status FROM provisioning_step WHERE action_id = :a ORDER BY id",
        a=action_id,
    )
    assert [s for s in steps if s[0] == "wait_healthy"] == [
        ("wait_healthy", "interrupted"),
        ("wait_healthy", "succeeded"),
    ]
    assert [s for s in steps if s[0] == "deploy"] == [("deploy", "succeeded")]  # created once, not again
    labelled = dockerd.client().containers.list(all=True, filters={"label": "portal.subdomain=" + SUBDOMAIN})
    assert len(labelled) == 1 and labelled[0].status == "running"
    assert _rows(database_url, "SELECT status FROM instance WHERE subdomain = :s", s=SUBDOMAIN) == [("running",)]


def test_sigterm_lets_the_running_step_finish_before_the_job_service_exits(
    scaled: dict[str, str], tmp_path: Path
) -> None:
    """What `docker stop` does to the job service: SIGTERM to `portal.serve --role jobs`, which asks its consumer
    to stop gracefully. The step that is running ends where it is (here: the health check passes a moment
    later), the action succeeds in that same consumer, and only then does the service exit."""
    log = tmp_path / "jobs.log"
    database_url = scaled["DATABASE_URL"]
    with open(log, "ab") as handle:
        service = subprocess.Popen(
            [sys.executable, "-m", "portal.serve", "--role", "jobs"],
            cwd=PROJECT_ROOT,
            env={**scaled, "JOB_WORKERS": "1"},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        requested = subprocess.run(
            [sys.executable, "-c", REQUEST], cwd=PROJECT_ROOT, env=scaled, capture_output=True, text=True, timeout=60
        )
        assert requested.returncode == 0, requested.stderr
        action_id = requested.stdout.strip().splitlines()[-1]
        running_step = "SELECT step FROM provisioning_step WHERE action_id = :a AND status = 'running'"
        _wait_for(
            "wait_healthy to run",
            lambda: _rows(database_url, running_step, a=action_id) == [("wait_healthy",)],
            60,
            log,
        )
        service.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        assert service.poll() is None, "the job service exited with a step still running"
        container = docker.DockerClient(base_url=scaled["DOCKER_HOST"]).containers.get(f"portal-{SUBDOMAIN}")
        assert container.exec_run(["sh", "-c", "echo ok > /www/later"]).exit_code == 0  # the step can end now
        assert service.wait(timeout=30) == 0
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
    statuses = _rows(database_url, "SELECT status FROM provisioning_action WHERE id = :a", a=action_id)
    steps = _rows(
        database_url, "SELECT step, status FROM provisioning_step WHERE action_id = :a ORDER BY id", a=action_id
    )
    assert statuses == [("succeeded",)], log.read_text(errors="replace")[-3000:]
    assert ("wait_healthy", "interrupted") not in steps and ("wait_healthy", "succeeded") in steps
