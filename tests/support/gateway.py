"""The real AI gateway for tests and benches: LiteLLM's proxy from .venv-gateway on a loopback port, with demo
models that answer with a fixed text (LiteLLM's `mock_response`, priced from LiteLLM's own table), no network.

Started the way `make gateway` starts it (services/gateway/launch.py), so the tests exercise the shipped config,
hooks and callback; the spool and the cache live under the test's var/."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.gateway.launch import GATEWAY_VENV, command, demo_models, gateway_config, gateway_env, write_config
from tests.support.servers import free_port


def require_gateway() -> None:
    """Skip with the reason without LiteLLM's virtualenv; fail when CI makes the real components mandatory."""
    if (GATEWAY_VENV / "bin" / "litellm").exists():
        return
    if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
        pytest.fail(f"{GATEWAY_VENV} is missing but PORTAL_REQUIRE_ALL=1 (make gateway-venv)")
    pytest.skip(f"the AI gateway is not installed here ({GATEWAY_VENV} is missing: make gateway-venv)")


@dataclass
class Gateway:
    port: int
    config: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command(self.config, "127.0.0.1", self.port),
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the gateway did not answer: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL to its whole process group: nothing of it gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def chat(self, key: str, model: str, client: httpx.Client | None = None, **extra: object) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}
        headers = {"Authorization": f"Bearer {key}"}
        if client is not None:
            return client.post(f"{self.url}/v1/chat/completions", json=body, headers=headers)
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=30)


@contextmanager
def litellm_gateway(var_dir: Path, *, port: int | None = None, hooks: bool = True) -> Iterator[Gateway]:
    """A running gateway configured from the current settings (AI_GATEWAY_MASTER_KEY, INTERNAL_URL, the cache)."""
    require_gateway()
    name = "gateway" if hooks else "gateway-plain"
    config = write_config(var_dir / name / "config.yaml", gateway_config(demo_models(), hooks=hooks))
    gateway = Gateway(port or free_port(), config, gateway_env(var_dir), var_dir / name / "litellm.log")
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()
