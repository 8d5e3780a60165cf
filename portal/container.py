"""The image's entry point: one image, three roles (compose.yaml runs each as a service).

- `web`: the prebuilt frontend and the backend on PORT (portal/web.py); scale with `--scale web=N`.
- `jobs`: JOB_WORKERS huey consumers (portal/serve.py); scale with `--scale worker=N`. SIGTERM (docker stop)
  lets running jobs finish; a consumer killed outright is covered by the provisioning lease.
- `migrate`: `alembic upgrade head`, then exit (a one-shot service the others wait for). `migrate --seed` also
  loads the demo data.
"""

from __future__ import annotations

import subprocess
import sys

from portal import serve, web
from services.config import PROJECT_ROOT


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv) or ["web"]
    role, rest = args[0], args[1:]
    if role == "web":
        return web.main()
    if role == "jobs":
        return serve.main(["--role", "jobs"])
    if role == "migrate":
        return migrate(seed="--seed" in rest)
    print(f"portal: unknown role {role!r}; use web, jobs or migrate", file=sys.stderr)
    return 2


def migrate(*, seed: bool = False) -> int:
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0 or not seed:
        return done.returncode
    return subprocess.run([sys.executable, "-m", "services.cli", "seed"], cwd=PROJECT_ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
