"""A real Docker engine (our own dockerd under a temporary folder) and the demo app image
(services.provisioning.demo_image)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from services.provisioning import demo_image

TEST_IMAGE = "portal-test/app:latest"
BUSYBOX = os.environ.get("PORTAL_BUSYBOX", "/bin/busybox")


def docker_required() -> bool:
    return os.environ.get("REQUIRE_DOCKER") == "1" or os.environ.get("PORTAL_REQUIRE_ALL") == "1"


def unavailable(reason: str) -> None:
    if docker_required():
        pytest.fail(f"Docker tests are mandatory here (REQUIRE_DOCKER=1) but: {reason}")
    pytest.skip(f"no Docker engine: {reason}")


class Dockerd:
    """A dockerd this test session owns, so tests may kill and restart it."""

    def __init__(self, pool: str = "10.213.0.0/16", *, iptables: bool = True) -> None:
        # unix socket paths are limited to 108 bytes: keep the folder short
        self.root = Path(tempfile.mkdtemp(prefix="pdk-", dir="/tmp"))
        self.host = f"unix://{self.root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None
        # several engines on one machine (the server pool's tests): each its own subnets, and only the first one
        # writes iptables rules (their chains share names); published ports go through docker-proxy either way
        self.pool, self.iptables = pool, iptables

    def start(self, timeout: float = 30) -> None:
        _remove_stale_bridges()
        log = open(self.root / "dockerd.log", "ab")
        self.process = subprocess.Popen(
            [
                "dockerd",
                "--host",
                self.host,
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "pid"),
                "--bridge",
                "none",
                # one network per instance: Docker's default pools hold only ~30 networks, /24s from a /16 hold 256
                "--default-address-pool",
                f"base={self.pool},size=24",
                *([] if self.iptables else ["--iptables=false", "--ip-masq=false"]),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
            try:
                client = docker.DockerClient(base_url=self.host, timeout=5)
                client.ping()
                client.close()
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise RuntimeError("dockerd did not come up")

    def kill(self) -> None:
        """A crash of the engine: dockerd and its containerd die at once (containers' shims survive)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # containerd dies with dockerd but may linger as a zombie nobody reaps in a sandbox; its pid file would
        # make the restarted dockerd wait for a containerd that will never answer.
        (self.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host, timeout=30)

    def cleanup(self) -> None:
        """Everything it made goes with it: containers and networks are removed through the engine first, so it
        deletes its own bridges and iptables rules (left behind, they pile up run after run and slow every later
        network and port the engine makes: a thousand stale rules doubled the time to start an instance)."""
        if self.process is not None and self.process.poll() is None:
            try:
                client = docker.DockerClient(base_url=self.host, timeout=30)
                for container in client.containers.list(all=True):
                    container.remove(force=True)
                client.networks.prune()
                client.close()
            except Exception:  # noqa: BLE001 - best effort: the engine may be the one a test broke
                pass
        self.stop()
        for mount in ("exec", "data"):
            subprocess.run(["umount", "-R", str(self.root / mount)], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


POOL_PREFIXES = ("10.213.", "10.221.", "10.222.", "10.223.")  # the session's engine, then the pool's three


def _remove_stale_bridges() -> None:
    """Bridges left by a test dockerd that was killed (a crashed run) would route our pool's subnets to nowhere.

    Only when no other test dockerd is running: then every bridge with an address from our pool is a leftover.
    """
    others = subprocess.run(["pgrep", "-f", "dockerd --host unix:///tmp/pdk-"], capture_output=True, text=True)
    if others.stdout.strip() or shutil.which("ip") is None:
        return
    listing = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True)
    try:
        interfaces = json.loads(listing.stdout or "[]")
    except ValueError:
        return
    for interface in interfaces:
        name = interface.get("ifname", "")
        addresses = [a.get("local", "") for a in interface.get("addr_info", [])]
        if name.startswith("br-") and any(a.startswith(POOL_PREFIXES) for a in addresses):
            subprocess.run(["ip", "link", "delete", name], capture_output=True)


def start_dockerd(pool: str = "10.213.0.0/16", *, iptables: bool = True) -> Dockerd:
    if os.geteuid() != 0:
        unavailable("starting dockerd needs root")
    if shutil.which("dockerd") is None:
        unavailable("dockerd is not installed (apt-get install docker.io)")
    daemon = Dockerd(pool, iptables=iptables)
    try:
        daemon.start()
    except RuntimeError as exc:
        daemon.cleanup()
        unavailable(str(exc))
    return daemon


def build_test_image(client: docker.DockerClient) -> str:
    if not Path(BUSYBOX).exists():
        unavailable(f"{BUSYBOX} not found (apt-get install busybox-static)")
    return demo_image.build(client, TEST_IMAGE, Path(BUSYBOX))


NOTE = "note.txt"  # the file the demo app keeps in its data volume and serves at /cgi-bin/note


def write_note(container: Container, data: bytes) -> None:
    """Write the app's note into its data volume through the engine (as the app itself would)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(NOTE)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive("/data", buffer.getvalue())


def read_note(container: Container) -> bytes:
    stream, _ = container.get_archive(f"/data/{NOTE}")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile(NOTE)
        assert member is not None
        return member.read()
