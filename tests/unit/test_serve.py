"""`make run` supervises the web server and the job consumer: one Ctrl-C stops both; one dying stops the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.env import PROJECT_ROOT

SUPERVISOR = """
import sys
from portal.serve import supervise
sleeper = [sys.executable, "-c",
           "import os, time; open(os.environ['PIDS'] + '/' + str(os.getpid()), 'w'); time.sleep(600)"]
quitter = [sys.executable, "-c",
           "import time; time.sleep(float(__import__('os').environ['QUIT_AFTER'])); raise SystemExit(3)"]
commands = [sleeper, quitter if sys.argv[1] == "dies" else sleeper]
import os
sys.exit(supervise(commands, dict(os.environ)))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def _start(mode: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PIDS": str(tmp_path), "QUIT_AFTER": "2"}
    return subprocess.Popen([sys.executable, "-c", SUPERVISOR, mode], cwd=PROJECT_ROOT, env=env)


def _children(tmp_path: Path, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(list(tmp_path.iterdir())) < count:
        time.sleep(0.1)
    return [int(p.name) for p in tmp_path.iterdir()]


def test_ctrl_c_stops_both_processes(tmp_path: Path) -> None:
    supervisor = _start("both", tmp_path)
    children = _children(tmp_path, 2)
    assert len(children) == 2 and all(_alive(pid) for pid in children)
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in children)


def test_when_one_process_dies_the_other_is_stopped(tmp_path: Path) -> None:
    supervisor = _start("dies", tmp_path)
    [sleeper] = _children(tmp_path, 1)
    assert supervisor.wait(timeout=30) == 3
    assert not _alive(sleeper)


def test_consumer_yields_the_cpu_to_the_web_server_only_where_no_write_lock_is_shared(settings_env) -> None:  # type: ignore[no-untyped-def]
    from portal.serve import consumer_command

    settings_env.setenv("DATABASE_URL", "postgresql+psycopg://portal@db/portal")
    assert consumer_command("python")[:3] == ["nice", "-n", "10"]
    settings_env.setenv("DATABASE_URL", "sqlite:///var/portal.db")
    assert consumer_command("python")[0] == "python"  # SQLite: a niced lock holder would stall the web server


def test_job_workers_start_that_many_consumers_and_only_the_first_schedules_periodic_jobs(settings_env) -> None:  # type: ignore[no-untyped-def]
    from portal.serve import child_env, consumer_commands

    settings_env.setenv("JOB_WORKERS", "3")
    settings_env.setenv("WEB_WORKERS", "2")
    settings_env.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/1")
    commands = consumer_commands("python")
    assert len(commands) == 3
    assert ["--no-periodic" in command for command in commands] == [False, True, True]
    env = child_env(3100)
    assert env["GRANIAN_WORKERS"] == "2" and env["PORT"] == "3100"
    assert env["REFLEX_REDIS_URL"] == "redis://127.0.0.1:6379/1"


def test_roles_split_web_and_jobs_for_a_deployment(settings_env) -> None:  # type: ignore[no-untyped-def]
    from portal.serve import commands_for

    settings_env.setenv("JOB_WORKERS", "2")
    web_only, jobs_only, both = commands_for("web", 3000), commands_for("jobs", 3000), commands_for("all", 3000)
    assert len(web_only) == 1 and "reflex" in web_only[0]
    assert len(jobs_only) == 2 and all("huey.bin.huey_consumer" in c for c in jobs_only)
    assert both == [*jobs_only, *web_only]
    with pytest.raises(SystemExit, match="--role"):
        commands_for("everything", 3000)
