"""`make run`: the production build of the portal on one port, with the job consumer beside it.

Both are child processes of this one; Ctrl-C (or SIGTERM) stops both, and if either dies the other is stopped
too, so nobody is left with a portal whose jobs silently never run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from services.config import get_settings
from services.db import session_scope
from services.health import check_coolify
from services.provisioning.errors import ProvisioningError
from services.provisioning.operations import edge_summary, regenerate_proxy

# On PostgreSQL the consumer runs at a lower CPU priority than the web server: acknowledging a webhook is what
# Stripe times, handling it can wait a few milliseconds, and under a burst the consumer catches up right after.
# Not on SQLite: there both share one write lock, and a low-priority process holding it would stall the web.
CONSUMER_NICE = 10


def consumer_command(python: str = sys.executable, *, periodic: bool = True) -> list[str]:
    """One huey consumer with two worker threads; only one consumer of a portal schedules the periodic jobs."""
    settings = get_settings()
    command = [python, "-m", "huey.bin.huey_consumer", "services.worker.huey", "-w", "4", "-k", "thread"]
    if not periodic:
        command.append("--no-periodic")
    if not settings.is_sqlite:
        command = ["nice", "-n", str(CONSUMER_NICE), *command]
    return command


def consumer_commands(python: str = sys.executable) -> list[list[str]]:
    """JOB_WORKERS consumers; the first one alone enqueues the periodic jobs, so each runs once per period."""
    count = get_settings().job_worker_count()
    return [consumer_command(python, periodic=index == 0) for index in range(count)]


def child_env(port: int) -> dict[str, str]:
    """What the children need beyond our own environment: the port, web worker count and Reflex's Redis."""
    settings = get_settings()
    env = {**os.environ, "PORT": str(port), "GRANIAN_WORKERS": str(settings.web_worker_count())}
    if settings.reflex_redis_url:
        env["REFLEX_REDIS_URL"] = settings.reflex_redis_url
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.var_dir / "metrics"))
    return env


def fresh_metrics_dir(path: Path) -> None:
    """Every process of this run writes its counters there; a previous run's files would be counted again."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def web_command(port: int, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "reflex",
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
    ]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    for process in processes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            process.kill()


def _start_edge() -> None:
    """The edge in front of instances, in step with the database before the first page is served, so the links on
    the dashboards open right away; a failure is reported and the reconciler tries again every minute."""
    try:
        with session_scope() as session:
            regenerate_proxy(session)
        print(f"portal: {edge_summary()}", flush=True)
    except (ProvisioningError, OSError) as exc:
        print(f"portal: the edge in front of instances could not be started: {exc}", flush=True)


def _report_coolify() -> None:
    """Coolify's version and health at start-up, so a wrong URL or token shows before the first provision."""
    coolify = check_coolify(fresh=True)
    if coolify is not None:
        state = (
            f"Coolify {coolify.get('version')} healthy"
            if coolify["ok"]
            else f"NOT reachable: {coolify.get('error', '')}"
        )
        print(f"portal: {coolify['url']}: {state}", flush=True)


ROLES = ("all", "web", "jobs")


def commands_for(role: str, port: int) -> list[list[str]]:
    """`all` is `make run`: web and consumers together. A deployment runs `web` and `jobs` as separate services
    (compose.yaml), each scaled on its own; periodic jobs stay once per period (services/jobs/queue.py)."""
    if role not in ROLES:
        raise SystemExit(f"portal.serve: --role must be one of {', '.join(ROLES)}")
    web = [web_command(port)] if role in ("all", "web") else []
    jobs = consumer_commands() if role in ("all", "jobs") else []
    return [*jobs, *web]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.serve", description=__doc__)
    parser.add_argument("--role", choices=ROLES, default="all", help="what this process runs (default: all)")
    role = parser.parse_args(argv).role
    settings = get_settings()
    settings.check_startup()  # fail before starting anything with unsafe production settings
    port = settings.port
    web = f"{settings.web_worker_count()} web worker(s) on {settings.public_url}" if role != "jobs" else ""
    jobs = f"{settings.job_worker_count()} job consumer(s)" if role != "web" else ""
    print(f"portal: starting {' and '.join(p for p in (web, jobs) if p)} (Ctrl-C stops them all)", flush=True)
    _report_coolify()
    if role != "web":  # `all` (make run) and the job service own the edge; web processes only serve pages
        _start_edge()
    env = child_env(port)
    fresh_metrics_dir(Path(env["PROMETHEUS_MULTIPROC_DIR"]))
    return supervise(commands_for(role, port), env)


def supervise(commands: list[list[str]], env: dict[str, str]) -> int:
    """Run the commands together until a signal arrives or one of them exits; then stop all of them."""
    processes = [subprocess.Popen(command, env=env) for command in commands]
    stopping = False

    def _on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    exit_code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None:
                print(f"portal: {process.args!r} exited with {process.returncode}; stopping", flush=True)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    _stop(processes)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
