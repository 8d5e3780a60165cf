"""nginx vhosts, one per instance, validated with `nginx -t` before they replace anything.

The candidate configuration is assembled in a staging folder and tested as a whole; only then are files
swapped into place and nginx reloaded, so a broken vhost never replaces a working configuration.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.config import get_settings
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.proxy.base import Answer, Route, connect_address, listen_port, with_port

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


log = logging.getLogger(__name__)
PORTAL_VHOST = "_portal-domains.conf"  # sellers' portal domains; instance vhosts are named after the subdomain
_CHECK_CLIENT = httpx.Client(timeout=2.0, follow_redirects=False)


class NginxProxy:
    name = "nginx"

    def __init__(self, prefix: Path | None = None, listen: str | None = None, binary: str | None = None) -> None:
        settings = get_settings()
        self.prefix = Path(prefix or settings.nginx_dir or settings.var_dir / "nginx")
        self.listen = listen or settings.proxy_listen
        self.binary = binary or settings.nginx_bin
        self.vhost_dir = self.prefix / "vhosts"

    # --- files -----------------------------------------------------------------------------------------------------

    def _main_conf(self, vhost_dir: Path) -> str:
        return _templates.get_template("nginx.conf.j2").render(
            prefix=self.prefix, listen=self.listen, vhost_dir=vhost_dir
        )

    def render_vhost(self, route: Route) -> str:
        return _templates.get_template("vhost.conf.j2").render(
            name=f"instance {route.instance_id} ({route.subdomain})",
            hosts=" ".join(route.hosts),
            upstream=route.upstream,
            listen=self.listen,
        )

    def render_portal_vhost(self, hosts: Sequence[str]) -> str | None:
        if not hosts:
            return None
        return _templates.get_template("vhost.conf.j2").render(
            name="sellers' portal domains",
            hosts=" ".join(hosts),
            upstream=get_settings().portal_upstream,
            listen=self.listen,
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Web process, consumer threads and the CLI may all touch the config: one writer at a time."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        for sub in ("vhosts", "tmp"):
            (self.prefix / sub).mkdir(exist_ok=True)
        with open(self.prefix / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _test(self, vhost_dir: Path) -> None:
        with tempfile.NamedTemporaryFile("w", dir=self.prefix, suffix=".test.conf", delete=False) as handle:
            handle.write(self._main_conf(vhost_dir))
        try:
            result = subprocess.run(
                [self.binary, "-t", "-q", "-c", handle.name, "-p", str(self.prefix)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except FileNotFoundError as exc:
            raise PermanentError(f"nginx is not installed ({self.binary} not found)") from exc
        finally:
            os.unlink(handle.name)
        if result.returncode != 0:
            raise PermanentError(
                "nginx rejected the new configuration; the working one was kept: "
                + (result.stderr or result.stdout).strip()[-600:]
            )

    def _apply(self, files: dict[str, str | None]) -> bool:
        """Write (or delete, for None) vhost files after testing the whole result; reload nginx. Returns changed."""
        with self._locked():
            changed = {name: body for name, body in files.items() if _read(self.vhost_dir / name) != body}
            if not changed and (self.prefix / "nginx.conf").exists():
                self.ensure_running()
                return False
            staging = Path(tempfile.mkdtemp(prefix="vhosts-", dir=self.prefix))
            try:
                for existing in self.vhost_dir.glob("*.conf"):
                    shutil.copy2(existing, staging / existing.name)
                for name, body in changed.items():
                    if body is None:
                        (staging / name).unlink(missing_ok=True)
                    else:
                        (staging / name).write_text(body)
                self._test(staging)
                for name, body in changed.items():
                    target = self.vhost_dir / name
                    if body is None:
                        target.unlink(missing_ok=True)
                    else:
                        tmp = target.with_suffix(".tmp")
                        tmp.write_text(body)
                        os.replace(tmp, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            self._write_main_conf()
            self.reload()
            return True

    def _write_main_conf(self) -> None:
        (self.prefix / "nginx.conf").write_text(self._main_conf(self.vhost_dir))

    # --- process ---------------------------------------------------------------------------------------------------

    def _pid(self) -> int | None:
        try:
            pid = int((self.prefix / "nginx.pid").read_text().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def ensure_running(self) -> None:
        if self._pid() is None:
            self._write_main_conf()
            self._run([self.binary, "-c", str(self.prefix / "nginx.conf"), "-p", str(self.prefix)], "start")

    def reload(self, timeout: float = 5.0) -> None:
        """Reload and return once the new configuration serves every new connection.

        After SIGHUP nginx's master starts new workers, then waits 100 ms before telling the old ones to quit;
        until then old workers still accept connections with the old routes (a new host meets the default server,
        a restarted instance its old port). So as soon as the new workers are up, the old ones are told to quit
        here (QUIT: graceful, what the master sends them anyway): they finish what they are serving and take no
        new connections.
        """
        pid = self._pid()
        if pid is None:
            self.ensure_running()
            return
        old = _workers(pid)
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        retired: set[int] = set()
        while time.monotonic() < deadline:
            current = _workers(pid)
            if any(w not in old for w in current):
                for worker in old:
                    if worker in current and worker not in retired and "shutting down" not in current[worker]:
                        with suppress(ProcessLookupError):
                            os.kill(worker, signal.SIGQUIT)
                        retired.add(worker)
                if all(w not in current or "shutting down" in current[w] for w in old):
                    return
            time.sleep(0.002)
        log.warning("nginx did not finish switching to the new configuration within %.0f s", timeout)

    def stop(self) -> None:
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)

    def _run(self, command: list[str], what: str) -> None:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        except FileNotFoundError as exc:
            raise PermanentError(f"nginx is not installed ({self.binary} not found)") from exc
        if result.returncode != 0:
            raise ProvisioningError(f"nginx could not {what}: {(result.stderr or result.stdout).strip()[-400:]}")

    # --- the proxy interface ---------------------------------------------------------------------------------------

    def address(self) -> str | None:
        return self.listen

    def url_for(self, host: str) -> str:
        return with_port("http", host, listen_port(self.listen))

    def check(self, host: str, path: str) -> bool:
        answer = self.probe(host, path)
        return answer.status is not None and answer.status < 400

    def probe(self, host: str, path: str) -> Answer:
        try:
            response = _CHECK_CLIENT.get(f"http://{connect_address(self.listen)}{path}", headers={"Host": host})
        except httpx.HTTPError as exc:
            return Answer(None, None, f"nginx did not answer ({type(exc).__name__})")
        return Answer(None, response.status_code)

    def publish(self, route: Route) -> bool:
        return self._apply({f"{route.subdomain}.conf": self.render_vhost(route)})

    def unpublish(self, subdomain: str) -> bool:
        return self._apply({f"{subdomain}.conf": None})

    def set_portal_hosts(self, hosts: Sequence[str]) -> bool:
        return self._apply({PORTAL_VHOST: self.render_portal_vhost(hosts)})

    def regenerate(self, routes: Sequence[Route], portal_hosts: Sequence[str] = ()) -> int:
        """Rewrite every vhost from the database's truth; drop vhosts of instances that no longer exist."""
        wanted: dict[str, str | None] = {f"{r.subdomain}.conf": self.render_vhost(r) for r in routes}
        wanted[PORTAL_VHOST] = self.render_portal_vhost(portal_hosts)
        stale = {p.name: None for p in self.vhost_dir.glob("*.conf") if p.name not in wanted}
        self._apply({**wanted, **stale})
        return len(routes)


def _workers(master_pid: int) -> dict[int, str]:
    """The master's live child processes and their titles ("nginx: worker process [is shutting down]")."""
    children: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            if int(parent) == master_pid and state != "Z":  # a worker that exited is gone, reaped or not
                children[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
        except (OSError, ValueError, IndexError):
            continue
    return children


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
