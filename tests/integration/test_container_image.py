"""The Dockerfile builds on a base made from Debian's packages (no registry here) and the image runs: the
migration role, then the web role as a non-root user whose HEALTHCHECK turns healthy, serving the prebuilt
frontend and /api/health on PostgreSQL; `docker stop` ends it cleanly.

Building takes minutes (packages from PyPI and npm into the image), so it runs where PORTAL_TEST_IMAGE_BUILD=1
(CI sets it); the base comes from `mmdebstrap` (apt-get install mmdebstrap)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from docker.errors import BuildError

from tests.support.databases import fresh_postgres_database
from tests.support.docker_env import Dockerd, docker_required
from tests.support.env import PROJECT_ROOT, require_env
from tests.support.servers import free_port

BASE_IMAGE = "local/debian:bookworm"
BASE_TAR = Path("/tmp/portal-image-base-bookworm.tar")  # kept between runs: the base changes only with Debian
BASE_PACKAGES = "python3,python3-venv,ca-certificates,nodejs,npm,passwd"
IMAGE = "portal:test"


def _wanted() -> None:
    if os.environ.get("PORTAL_TEST_IMAGE_BUILD") != "1":
        if docker_required() and os.environ.get("CI") == "true":
            pytest.fail("CI must build the image: set PORTAL_TEST_IMAGE_BUILD=1 in .ci/run")
        pytest.skip("building the image takes minutes: set PORTAL_TEST_IMAGE_BUILD=1 to run it")
    if shutil.which("mmdebstrap") is None:
        pytest.fail("PORTAL_TEST_IMAGE_BUILD=1 but mmdebstrap is missing (apt-get install mmdebstrap)")


def _base(dockerd: Dockerd) -> str:
    client = dockerd.client()
    if not BASE_TAR.exists():
        partial = BASE_TAR.with_name(BASE_TAR.stem + ".partial.tar")  # mmdebstrap chooses the format by name
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(partial)],
            check=True,
            capture_output=True,
            timeout=900,
        )
        partial.rename(BASE_TAR)
    with open(BASE_TAR, "rb") as rootfs:
        client.api.import_image_from_data(rootfs, repository=BASE_IMAGE.split(":", maxsplit=1)[0], tag="bookworm")
    return BASE_IMAGE


def _extra_ca() -> str:
    """A TLS-inspecting proxy's certificate, when the machine trusts one (Debian's local CA folder)."""
    folder = Path(os.environ.get("PORTAL_TEST_EXTRA_CA_DIR", "/usr/local/share/ca-certificates"))
    return "\n".join(p.read_text() for p in sorted(folder.glob("*.crt"))) if folder.is_dir() else ""


@pytest.fixture(scope="module")
def image(dockerd: Dockerd) -> Iterator[str]:
    _wanted()
    client = dockerd.client()
    base = _base(dockerd)
    log = io.StringIO()
    try:
        _, lines = client.images.build(
            path=str(PROJECT_ROOT),
            tag=IMAGE,
            buildargs={"BASE": base, "API_URL": "http://localhost:3000", "EXTRA_CA_CERTS": _extra_ca()},
            network_mode="host",
            rm=True,
            forcerm=True,
            timeout=1800,
        )
        for line in lines:
            log.write(str(line.get("stream", "")))
    except BuildError as exc:  # the build's own output says why
        output = "".join(str(line.get("stream", line.get("error", ""))) for line in exc.build_log)
        pytest.fail(f"docker build failed: {exc}\n{output[-6000:]}")
    yield IMAGE


def test_the_image_migrates_then_serves_as_a_non_root_user_and_stops_cleanly(image: str, dockerd: Dockerd) -> None:
    client = dockerd.client()
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    port = free_port()
    with fresh_postgres_database(server) as database_url:
        env = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOW_TEST_CHECKOUT": "1",
            "PORT": str(port),
            "PUBLIC_URL": f"http://localhost:{port}",
        }
        migrated = client.containers.run(
            image, ["migrate"], environment=env, network_mode="host", remove=True, stderr=True
        )
        assert migrated is not None  # run() returns the output once the container exited 0
        web = client.containers.run(image, ["web"], environment=env, network_mode="host", detach=True)
        try:
            deadline = time.monotonic() + 120
            health = ""
            while time.monotonic() < deadline and health != "healthy":
                time.sleep(2)
                web.reload()
                health = web.attrs["State"].get("Health", {}).get("Status", "")
                assert web.status != "exited", web.logs().decode(errors="replace")[-3000:]
            assert health == "healthy", web.logs().decode(errors="replace")[-3000:]
            assert web.attrs["Config"]["User"] == "portal"
            assert client.containers.get(web.id).exec_run(["id", "-u"]).output.strip() == b"10001"
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert page.status_code == 200 and "<html" in page.text.lower()
            checks = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).json()["checks"]
            assert checks["database"]["backend"] == "postgresql"
            started = time.monotonic()
            web.stop(timeout=30)
            web.reload()
            assert web.attrs["State"]["ExitCode"] in (0, 143) and time.monotonic() - started < 30
        finally:
            web.remove(force=True)
