"""A checkout without ../shared beside it (third-party contracts) still runs its tests: those that need the
contracts skip with the reason, none fail and nothing ends in an internal error."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.env import PROJECT_ROOT

NEEDS_CONTRACTS = ["tests/unit/billing/test_webhook.py", "tests/unit/provisioning/test_coolify.py"]


def test_tests_that_need_the_contracts_skip_cleanly_without_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_REQUIRE", "REQUIRE_"))}
    env["PORTAL_SHARED_DIR"] = str(tmp_path / "no-shared-here")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *NEEDS_CONTRACTS],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "skipped" in run.stdout and "failed" not in run.stdout and "INTERNALERROR" not in run.stdout
    assert "no-shared-here" in run.stdout  # the reason names where the contracts were looked for
