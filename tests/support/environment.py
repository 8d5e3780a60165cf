"""Test environment: every test run gets its own var/ directory, SQLite database, Reflex states directory and
inline job queue.

Loaded as a pytest plugin (`-p tests.support.environment` in pyproject's addopts), which pytest imports before
any conftest: the environment must be set before any `services` module is imported, because settings and the
huey instance are built at import time exactly as in production.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path

RUN_DIR = Path(tempfile.mkdtemp(prefix="portal-tests-"))
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(RUN_DIR / "var"),
        "DATABASE_URL": f"sqlite:///{RUN_DIR / 'unit.db'}",
        "JOBS_IMMEDIATE": "true",
        "PUBLIC_URL": "http://portal.test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        # Reflex's disk state manager purges its directory when the app is built: one per test process, so
        # parallel workers never delete each other's files.
        "REFLEX_STATES_WORKDIR": str(RUN_DIR / "states"),
    }
)
for _name in ("REDIS_URL", "SMTP_URL", "STRIPE_SECRET_KEY", "COOLIFY_URL"):
    os.environ.pop(_name, None)


def pytest_configure() -> None:
    """Every table registered and every domain's tasks on the queue, as in the app, before any test runs."""
    importlib.import_module("services.models")
    importlib.import_module("services.worker")
