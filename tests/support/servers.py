"""Real servers for tests: an SMTP server (aiosmtpd) and the portal itself as `make run` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpInbox:
    """Messages the real SMTP server accepted, with a wait so tests follow the asynchronous job queue."""

    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, _server, _session, envelope):  # type: ignore[no-untyped-def]
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, subject_word: str, timeout: float = 30) -> EmailMessage:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in reversed(self.messages):
                    if message["To"] == to and subject_word.lower() in message["Subject"].lower():
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    subjects = [(m["To"], m["Subject"]) for m in self.messages]
                    raise AssertionError(f"no e-mail to {to} about {subject_word!r}; got {subjects}")
                self._arrived.wait(remaining)


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def project_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child process as an operator would set it (no test-only inline job mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PORTAL_TEST"))}
    env.update(
        {
            "ENVIRONMENT": "test",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'portal.db'}",
            "JOBS_IMMEDIATE": "false",
            "REFLEX_CHECK_LATEST_VERSION": "0",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "PATH": f"{PROJECT_ROOT / '.tools/node_modules/.bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
    )
    for name in ("REDIS_URL", "SMTP_URL"):
        env.pop(name, None)
    env.update(overrides)
    return env


def run_setup(env: dict[str, str]) -> None:
    """Migrations and demo data, exactly as `make setup` does them."""
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "alembic"), "upgrade", "head"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run([str(bin_dir / "portal-admin"), "seed"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)


@dataclass
class RunningPortal:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    database_url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def portal_server(env: dict[str, str], log_path: Path, timeout: float = 240) -> Iterator[RunningPortal]:
    """`python -m portal.serve` (what `make run` calls): production build plus job consumer on one port."""
    port = int(env["PORT"])
    url = f"http://localhost:{port}"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.serve"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningPortal(url=url, process=process, log_path=log_path, database_url=env["DATABASE_URL"])
    try:
        _wait_healthy(running, timeout)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_healthy(running: RunningPortal, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"portal exited with {running.process.returncode}:\n{running.log()[-4000:]}")
        try:
            response = httpx.get(f"{running.url}/api/health", timeout=2)
            if (
                response.status_code == 200
                and response.json()["checks"]["queue"]["consumer_alive"]
                and httpx.get(running.url + "/", timeout=5).status_code == 200
            ):
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"portal not healthy after {timeout}s:\n{running.log()[-4000:]}")
