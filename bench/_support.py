"""Shared by the benchmarks: the portal started exactly as `make run` does (via the test helpers), and statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, portal_server, project_env  # noqa: F401  (free_port re-exported)

BIN = Path(sys.executable).parent


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def portal_env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The operator's environment; REDIS_URL and REFLEX_REDIS_URL from the caller's shell are kept (the scaled
    configuration: with REFLEX_REDIS_URL the portal runs a web worker per core, as compose.yaml deploys it). Each
    run gets its own queue, so a consumer left by another run never takes this run's jobs."""
    if os.environ.get("REDIS_URL"):
        extra.setdefault("REDIS_URL", os.environ["REDIS_URL"])
        extra.setdefault("JOBS_QUEUE_NAME", os.environ.get("JOBS_QUEUE_NAME", f"portal-bench-{uuid.uuid4().hex[:8]}"))
    if os.environ.get("REFLEX_REDIS_URL"):
        extra.setdefault("REFLEX_REDIS_URL", os.environ["REFLEX_REDIS_URL"])
    return project_env(var_dir, **{"PORT": str(port), "PUBLIC_URL": f"http://localhost:{port}", **extra})


@contextmanager
def running_portal(env: dict[str, str], timeout: float = 300) -> Iterator[str]:
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    with portal_server(env, Path(env["VAR_DIR"]) / "portal.log", timeout=timeout) as running:
        yield running.url


def temp_var() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))
