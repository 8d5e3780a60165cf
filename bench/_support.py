"""Shared by the benchmarks: start the portal exactly as `make run` does, in a throw-away var/ folder."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def portal_env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {**os.environ, "VAR_DIR": str(var_dir), "DATABASE_URL": f"sqlite:///{var_dir / 'portal.db'}",
           "PORT": str(port), "PUBLIC_URL": f"http://localhost:{port}", "ENVIRONMENT": "development",
           "REFLEX_CHECK_LATEST_VERSION": "0", "REFLEX_TELEMETRY_ENABLED": "false",
           "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{BIN}:{os.environ['PATH']}"}
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
    env.update(extra)
    return env


@contextmanager
def running_portal(env: dict[str, str], timeout: float = 300) -> Iterator[str]:
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(Path(env["VAR_DIR"]) / "portal.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "portal.serve"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("portal did not start: " + (Path(env["VAR_DIR"]) / "portal.log").read_text()[-3000:])
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def temp_var() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))
