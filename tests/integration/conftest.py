"""Fixtures for tests against a real Docker engine and a real nginx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from sqlmodel import Session

from services.provisioning import engine
from services.provisioning.proxy.nginx import NginxProxy
from tests.support.docker_env import Dockerd, unavailable
from tests.support.env import SettingsEnv
from tests.support.provisioning import Provisioning, Scheduled
from tests.support.servers import free_port


@pytest.fixture()
def provisioning(dockerd: Dockerd, db: Session, settings_env: SettingsEnv, tmp_path: Path) -> Iterator[Provisioning]:
    if shutil.which("nginx") is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    port = free_port()
    nginx_dir = Path("/tmp") / f"pnx-{tmp_path.name[-12:]}"
    settings_env.setenv("DOCKER_HOST", dockerd.host)
    settings_env.setenv("PROXY_BACKEND", "nginx")
    settings_env.setenv("PROXY_LISTEN", f"127.0.0.1:{port}")
    settings_env.setenv("NGINX_DIR", str(nginx_dir))
    settings_env.setenv("PROVISION_RETRY_BASE_SECONDS", "0.1")
    settings_env.setenv("PROVISION_HEALTH_TIMEOUT_SECONDS", "20")
    settings_env.setenv("INSTANCE_SCHEME", "http")
    scheduled = Scheduled()
    engine.set_scheduler(scheduled)
    proxy = NginxProxy()
    try:
        yield Provisioning(dockerd=dockerd, proxy=proxy, proxy_port=port, scheduled=scheduled)
    finally:
        engine.set_scheduler(None)
        proxy.stop()
        _remove_everything(dockerd)
        shutil.rmtree(nginx_dir, ignore_errors=True)


def _remove_everything(dockerd: Dockerd) -> None:
    if dockerd.process is None or dockerd.process.poll() is not None:
        dockerd.start()
    client = dockerd.client()
    for _attempt in range(5):  # anything another user of the engine created meanwhile goes on the next round
        for container in client.containers.list(all=True):
            container.remove(force=True)
        client.networks.prune()
        try:
            for volume in client.volumes.list():
                volume.remove(force=True)
        except docker.errors.APIError:
            continue
        break
    client.close()
