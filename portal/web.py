"""Serve a frontend built beforehand, with no compile and no bun: the container image's and the scaled shape's
web process.

`make run` lets `reflex run --env prod` compile and build at start-up, which suits one machine. A deployment
builds the frontend once (`reflex export --frontend-only --no-zip`, in the image) and starts as many of these
as it likes: each is Reflex's own production backend (granian, GRANIAN_WORKERS workers) with that build
mounted on the same port, exactly as `reflex run --env prod` serves it after its build step.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from reflex.constants import Env, LogLevel
from reflex.utils import exec as reflex_exec
from reflex.utils.prerequisites import get_web_dir
from reflex_base.constants.base import Dirs
from reflex_base.environment import environment

from services.config import PROJECT_ROOT, get_settings


def build_dir() -> Path:
    """Where the export left the build: `.web/build/client`, or under REFLEX_WEB_WORKDIR when set."""
    web_dir = get_web_dir()
    return (web_dir if web_dir.is_absolute() else PROJECT_ROOT / web_dir) / Dirs.STATIC


def main() -> int:
    settings = get_settings()
    settings.check_startup()
    build = build_dir()
    if not (build / "index.html").exists():
        print(
            f"portal.web: no frontend build in {build}; run `reflex export --frontend-only --no-zip` first",
            file=sys.stderr,
        )
        return 2
    os.chdir(PROJECT_ROOT)
    environment.REFLEX_ENV_MODE.set(Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)  # the build above is what is served
    reflex_exec.run_backend_prod("0.0.0.0", settings.port, LogLevel.WARNING, mount_frontend_compiled_app=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
