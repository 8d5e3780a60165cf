"""Docker backend: one container per instance on its own network with its own data volume."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.tls
import httpx
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from services.config import get_settings
from services.provisioning.backends.base import QUICK_HEALTH_PACING, Placement
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.labels import LABEL_INSTANCE, resource_name
from services.provisioning.spec import InstanceSpec, ServerRef

log = logging.getLogger(__name__)

LABEL_CONFIG = "portal.config-hash"
DATA_PATH = "/data"
DATA_CHUNK = 1024 * 1024
CPU_PERIOD = 100_000
# One client for every health check: building one costs ~30 ms (it loads the CA bundle even for plain http).
# No keep-alive: a kept connection to an nginx worker from before a reload would still see the old routes.
_HEALTH_CLIENT = httpx.Client(timeout=2, limits=httpx.Limits(max_keepalive_connections=0))
_STATUS = {
    "running": "running",
    "created": "stopped",
    "exited": "stopped",
    "paused": "stopped",
    "restarting": "restarting",
    "removing": "stopped",
    "dead": "failed",
}


def _config_hash(spec: InstanceSpec) -> str:
    relevant = {
        "image": spec.image,
        "env": spec.env,
        "limits": {k: spec.limits.get(k) for k in ("memory_mb", "cpus")},
        "port": spec.internal_port,
        "labels": spec.labels,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


class DockerBackend:
    health_pacing = QUICK_HEALTH_PACING
    name = "docker"

    def __init__(self, base_url: str | None = None, timeout: int = 30, tls_dir: str | None = None) -> None:
        self._base_url = base_url if base_url is not None else get_settings().docker_host
        self._timeout, self._tls_dir = timeout, tls_dir

    @classmethod
    def of_server(cls, server: ServerRef, timeout: int = 30) -> DockerBackend:
        """The engine of one server of the pool itself (the watch's probes), not of an instance placed on it."""
        return cls(base_url=server.address or None, timeout=timeout, tls_dir=server.tls_dir)

    @property
    def address(self) -> str:
        return self._base_url or "default socket"

    def ping(self) -> None:
        """Raise ProvisioningError unless the engine answers (the watch job's probe)."""
        with self._client() as client:
            client.ping()

    def memory_mb(self) -> int:
        """The engine's memory, as `docker info` reports it."""
        with self._client() as client:
            info = client.info()
        return int(info.get("MemTotal", 0)) // (1024 * 1024)

    def _engine(self, spec: InstanceSpec | None) -> tuple[str | None, str | None]:
        """The engine an instance lives on: its server's address (services/capacity), else the portal's own."""
        server = spec.server if spec is not None else None
        if server is not None and server.address:
            return server.address, server.tls_dir
        return self._base_url, self._tls_dir

    @contextmanager
    def _client(self, spec: InstanceSpec | None = None) -> Iterator[docker.DockerClient]:
        base_url, tls_dir = self._engine(spec)
        try:
            client = engine_client(base_url, tls_dir, self._timeout)
        except DockerException as exc:
            raise ProvisioningError(
                f"The Docker engine is not reachable ({base_url or 'default socket'}): {_short(exc)}"
            ) from exc
        try:
            yield client
        except (PermanentError, ProvisioningError):
            raise
        except ImageNotFound as exc:
            raise PermanentError(f"The image is not available on the Docker engine: {_short(exc)}") from exc
        except DockerException as exc:
            if _is_connection_problem(exc):
                raise ProvisioningError(f"The Docker engine is not reachable: {_short(exc)}") from exc
            raise ProvisioningError(f"Docker refused the request: {_short(exc)}") from exc
        except OSError as exc:  # socket gone while talking to the engine
            raise ProvisioningError(f"The Docker engine is not reachable: {exc}") from exc
        finally:
            client.close()

    # --- resources -------------------------------------------------------------------------------------------------

    def _owned(self, labels: dict[str, str] | None, spec: InstanceSpec, what: str, name: str) -> None:
        owner = (labels or {}).get(LABEL_INSTANCE)
        if owner != str(spec.instance_id):
            raise PermanentError(
                f"A Docker {what} named {name!r} already exists and does not belong to this "
                f"instance (owner label {owner!r}). Remove or rename it, then retry."
            )

    def prepare(self, spec: InstanceSpec) -> None:
        """The instance's network and volume, each made in one call (it is on the path from payment to a running
        instance): a network that exists answers 409 and is then checked for ownership; creating a volume that
        exists returns it as it is, labels included, so ownership is checked on the answer."""
        name = resource_name(spec.subdomain)
        with self._client(spec) as client:
            self._find(client, spec)  # a foreign container with our name stops us before we create anything
            try:
                client.api.create_network(f"{name}-net", driver="bridge", labels=spec.labels, check_duplicate=True)
            except APIError as exc:
                if exc.status_code != 409:
                    raise
                network = client.networks.get(f"{name}-net")
                self._owned(network.attrs.get("Labels"), spec, "network", network.name)
            volume = client.api.create_volume(f"{name}-data", labels={LABEL_INSTANCE: str(spec.instance_id)})
            self._owned(volume.get("Labels"), spec, "volume", str(volume.get("Name", f"{name}-data")))

    def _find(self, client: docker.DockerClient, spec: InstanceSpec) -> Container | None:
        try:
            container = client.containers.get(resource_name(spec.subdomain))
        except NotFound:
            return None
        self._owned(container.labels, spec, "container", container.name)
        return container

    def _create(self, client: docker.DockerClient, spec: InstanceSpec, new_port: bool = False) -> Container:
        if not spec.image:
            raise PermanentError("The app template names no image.")
        name = resource_name(spec.subdomain)
        cpus = spec.limits.get("cpus")
        resources: dict[str, Any] = {}
        if spec.memory_limit:
            resources["mem_limit"] = resources["memswap_limit"] = spec.memory_limit
        if cpus:
            resources["cpu_period"] = CPU_PERIOD
            resources["cpu_quota"] = int(float(cpus) * CPU_PERIOD)
        try:
            return client.containers.create(
                spec.image,
                name=name,
                detach=True,
                init=True,
                environment=spec.env,
                labels={**spec.labels, LABEL_CONFIG: _config_hash(spec)},
                network=f"{name}-net",
                volumes={f"{name}-data": {"bind": DATA_PATH, "mode": "rw"}},
                ports={f"{spec.internal_port}/tcp": (_publish_host(spec), _host_port(spec, new_port))},
                restart_policy={"Name": "unless-stopped"},
                **resources,
            )
        except ImageNotFound as exc:
            raise PermanentError(f"The image {spec.image!r} does not exist on the Docker engine.") from exc
        except APIError as exc:
            if exc.status_code == 409:  # created concurrently, or a foreign container took the name
                container = self._find(client, spec)
                if container is not None:
                    return container
            raise

    def _placement(self, container: Container, spec: InstanceSpec) -> Placement:
        """host:port of the published port: a fixed binding (ours) is known before the first start; an
        engine-assigned one (containers created before ports were fixed) only once the container runs."""
        key = f"{spec.internal_port}/tcp"
        requested = ((container.attrs.get("HostConfig") or {}).get("PortBindings") or {}).get(key) or []
        if requested and requested[0].get("HostPort") not in (None, "", "0"):
            return Placement(
                external_id=container.id,
                upstream=f"{requested[0].get('HostIp') or '127.0.0.1'}:{requested[0]['HostPort']}",
            )
        container.reload()
        bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(key)
        upstream = f"{bindings[0].get('HostIp') or '127.0.0.1'}:{bindings[0]['HostPort']}" if bindings else None
        return Placement(external_id=container.id, upstream=upstream)

    def _ensure_container(self, client: docker.DockerClient, spec: InstanceSpec) -> Container:
        container = self._find(client, spec)
        if container is not None and container.labels.get(LABEL_CONFIG) != _config_hash(spec):
            log.info("configuration of %s changed: recreating its container (the data volume stays)", spec.subdomain)
            container.remove(force=True)
            container = None
        return container if container is not None else self._create(client, spec)

    def create(self, spec: InstanceSpec) -> Placement:
        """The prepared container, before payment. With PROVISION_PREWARM_START it is started and frozen at once
        (the cgroup freezer: no CPU, its memory kept), so payment only thaws an application that has booted."""
        with self._client(spec) as client:
            container = self._ensure_container(client, spec)
            if get_settings().provision_prewarm_start and container.status == "created":
                container = self._start(client, container, spec)
                container.pause()
                container.reload()
            return self._placement(container, spec)

    def deploy(self, spec: InstanceSpec) -> Placement:
        with self._client(spec) as client:
            container = self._ensure_container(client, spec)
            if container.status == "paused":  # prepared before payment: thawing takes milliseconds
                container.unpause()
            elif container.status != "running":
                container = self._start(client, container, spec)
            return self._placement(container, spec)

    def _start(self, client: docker.DockerClient, container: Container, spec: InstanceSpec) -> Container:
        """Start; if its host port was taken in the meantime, recreate it on a new one (the proxy step follows)."""
        try:
            container.start()
            return container
        except APIError as exc:
            if not _port_taken(exc):
                raise
            log.warning("host port of %s was taken: recreating its container on another port", spec.subdomain)
        container.remove(force=True)
        container = self._create(client, spec, new_port=True)
        container.start()
        return container

    def start(self, spec: InstanceSpec) -> Placement:
        return self.deploy(spec)

    def restart(self, spec: InstanceSpec) -> Placement:
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is None or container.status != "running":
                return self.deploy(spec)
            container.restart(timeout=10)  # the host port is fixed: nginx keeps pointing at the right place
            return self._placement(container, spec)

    def stop(self, spec: InstanceSpec) -> None:
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is not None:
                if container.status == "paused":  # a frozen process cannot take the stop signal
                    container.unpause()
                container.stop(timeout=10)

    def status(self, spec: InstanceSpec) -> str:
        try:
            with self._client(spec) as client:
                container = self._find(client, spec)
                return "missing" if container is None else _STATUS.get(container.status, "unknown")
        except PermanentError:
            return "failed"
        except ProvisioningError:
            return "unknown"

    def statuses(self, specs: list[InstanceSpec]) -> dict[int, str]:
        """What `status` says of each, from one listing per engine (the reconciliation asks it of every instance
        each minute: a client and a request per instance cost 1.7 ms each, 17 s at 10,000)."""
        by_engine: dict[tuple[str | None, str | None], list[InstanceSpec]] = {}
        for spec in specs:
            by_engine.setdefault(self._engine(spec), []).append(spec)
        found: dict[int, str] = {}
        for group in by_engine.values():
            found.update(self._statuses_on_one_engine(group))
        return found

    def _statuses_on_one_engine(self, specs: list[InstanceSpec]) -> dict[int, str]:
        try:
            with self._client(specs[0]) as client:
                listed = client.api.containers(all=True, filters={"name": get_settings().docker_name_prefix})
        except PermanentError:
            return dict.fromkeys((s.instance_id for s in specs), "failed")
        except ProvisioningError:
            return dict.fromkeys((s.instance_id for s in specs), "unknown")
        by_name = {name.lstrip("/"): row for row in listed for name in row.get("Names") or []}
        found: dict[int, str] = {}
        for spec in specs:
            row = by_name.get(resource_name(spec.subdomain))
            if row is None:
                found[spec.instance_id] = "missing"
            elif (row.get("Labels") or {}).get(LABEL_INSTANCE) != str(spec.instance_id):
                found[spec.instance_id] = "failed"  # someone else's container under our name, as `status` says
            else:
                found[spec.instance_id] = _STATUS.get(str(row.get("State", "")), "unknown")
        return found

    def health(self, spec: InstanceSpec, upstream: str | None) -> bool:
        if not upstream:
            return False
        try:
            response = _HEALTH_CLIENT.get(f"http://{upstream}{spec.health_path}", headers={"Host": spec.domain})
        except httpx.HTTPError:
            return False
        return response.status_code < 400

    def logs(self, spec: InstanceSpec, lines: int = 100) -> str:
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is None:
                return ""
            return str(container.logs(tail=lines, timestamps=True).decode("utf-8", errors="replace"))

    def stats(self, spec: InstanceSpec) -> dict[str, float]:
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is None or container.status != "running":
                return {}
            raw = container.stats(stream=False)
        cpu, pre = raw.get("cpu_stats", {}), raw.get("precpu_stats", {})
        cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
        system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
        online = cpu.get("online_cpus") or 1
        memory = raw.get("memory_stats", {})
        return {
            "cpu_percent": round(cpu_delta / system_delta * online * 100, 2) if system_delta > 0 else 0.0,
            "memory_bytes": float(memory.get("usage", 0)),
            "memory_limit_bytes": float(memory.get("limit", 0)),
        }

    # --- the data volume, for backups and moves (services/backups) ------------------------------------------------

    def local_volume(self, spec: InstanceSpec, client: docker.DockerClient | None = None) -> Path | None:
        """The data volume's folder, when the engine runs on this machine (a unix socket) with the local volume
        driver and this process may read and write every file in it (root). Backups and moves then read and write
        it with tar directly: two to three times the speed of the engine's archive API, which builds and streams
        the same tar through its HTTP socket (bench/capacity.py)."""
        base_url, _tls = self._engine(spec)
        if (base_url and not base_url.startswith("unix://")) or os.geteuid() != 0 or shutil.which("tar") is None:
            return None
        if client is None:
            with self._client(spec) as own:
                return self.local_volume(spec, own)
        try:
            volume = client.volumes.get(f"{resource_name(spec.subdomain)}-data")
        except NotFound:
            return None
        self._owned(volume.attrs.get("Labels"), spec, "volume", volume.name)
        mountpoint = Path(str(volume.attrs.get("Mountpoint") or ""))
        if volume.attrs.get("Driver") != "local" or not mountpoint.is_dir():
            return None
        return mountpoint

    @contextmanager
    def data_export(self, spec: InstanceSpec, *, pause: bool = True) -> Iterator[Iterator[bytes]]:
        """The data volume as a tar stream (entries under `data/`), read from the volume itself.

        With `pause` a running instance is frozen while the stream is read (the cgroup freezer: its open files
        are consistent, its memory kept, it answers again right after), else it keeps running (apps whose files
        are always consistent on disk)."""
        with self._client(spec) as client:
            local = self.local_volume(spec, client)
            container = self._find(client, spec)
            if container is None:
                raise PermanentError("The instance has no container on its server: there is nothing to back up.")
            paused = pause and container.status == "running"
            if paused:
                container.pause()
            try:
                if local is not None:
                    yield _tar_of(local)
                else:
                    stream, _stat = container.get_archive(DATA_PATH, chunk_size=DATA_CHUNK)
                    yield stream
            finally:
                if paused:
                    container.unpause()

    def prepare_stopped(self, spec: InstanceSpec) -> None:
        """Network, empty volume and the container, created and not started: a move's target, before its copy."""
        self.prepare(spec)
        with self._client(spec) as client:
            self._ensure_container(client, spec)

    def replace_data(self, spec: InstanceSpec, tar_chunks: Iterable[bytes], *, fresh: bool = False) -> None:
        """Replace the data volume with the tar stream's content: the container and volume are made anew (nothing
        of the old data survives), the archive is unpacked into the new container before its first start.
        `fresh`: the volume was just made for this (a move's target) and is used as it is."""
        name = resource_name(spec.subdomain)
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is not None:
                container.remove(force=True)
            if not fresh:
                try:
                    volume = client.volumes.get(f"{name}-data")
                    self._owned(volume.attrs.get("Labels"), spec, "volume", volume.name)
                    volume.remove(force=True)
                except NotFound:
                    pass
        if not fresh:
            self.prepare(spec)  # network and an empty volume, owned by this instance
        with self._client(spec) as client:
            container = self._find(client, spec) if fresh else None
            container = container if container is not None else self._create(client, spec)
            local = self.local_volume(spec, client)
            if local is not None:
                _untar_into(local, tar_chunks)
            elif not container.put_archive("/", tar_chunks):
                raise ProvisioningError("The engine did not accept the backup's archive.")

    def remove_strays(self, placed_here: set[int]) -> int:
        """Remove every portal container, network and volume on this engine whose instance is not placed here any
        more (an engine back after its instances were started elsewhere from their backups). Returns how many
        instances' copies went."""
        with self._client() as client:
            strays: set[str] = set()
            for container in client.containers.list(all=True, filters={"label": LABEL_INSTANCE}):
                owner = container.labels.get(LABEL_INSTANCE, "")
                if owner.isdigit() and int(owner) not in placed_here:
                    container.remove(force=True)
                    strays.add(owner)
            for network in client.networks.list(filters={"label": LABEL_INSTANCE}):
                owner = (network.attrs.get("Labels") or {}).get(LABEL_INSTANCE, "")
                if owner.isdigit() and int(owner) not in placed_here:
                    network.remove()
            for volume in client.volumes.list(filters={"label": LABEL_INSTANCE}):
                owner = (volume.attrs.get("Labels") or {}).get(LABEL_INSTANCE, "")
                if owner.isdigit() and int(owner) not in placed_here:
                    volume.remove(force=True)
                    strays.add(owner)
        return len(strays)

    def destroy(self, spec: InstanceSpec) -> None:
        name = resource_name(spec.subdomain)
        with self._client(spec) as client:
            container = self._find(client, spec)
            if container is not None:
                container.remove(force=True)
            for network in client.networks.list(names=[f"{name}-net"]):
                if network.name == f"{name}-net":
                    self._owned(network.attrs.get("Labels"), spec, "network", network.name)
                    network.remove()
            try:
                volume = client.volumes.get(f"{name}-data")
            except NotFound:
                return
            self._owned(volume.attrs.get("Labels"), spec, "volume", volume.name)
            volume.remove(force=True)


def _publish_host(spec: InstanceSpec) -> str:
    """The address the instance's port is published on: its server's address on the network the edge reaches it
    by (one edge in front of every server, routing to server:port), loopback for the portal's own engine."""
    return spec.server.publish_host if spec.server is not None else "127.0.0.1"


def _host_port(spec: InstanceSpec, new_port: bool) -> int:
    """A fixed host port chosen when the container is created, kept across restarts and re-creations.

    Fixed rather than engine-assigned so the route is known before the first start (the vhost is in place when
    the customer pays) and never changes on a restart (no proxy reload, no request sent to an old port). On this
    machine a free port is found by binding one; on another server a random one in the ephemeral range is taken,
    and a clash there ("port is already allocated") recreates the container on another (`_start`).
    """
    host = _publish_host(spec)
    if spec.upstream and not new_port:
        known_host, _, port = spec.upstream.rpartition(":")
        if known_host == host and port.isdigit():
            return int(port)
    if host not in ("127.0.0.1", "localhost"):
        return secrets.choice(range(20000, 60000))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tar_of(folder: Path) -> Iterator[bytes]:
    """The folder as a tar stream with its entries under `data/`, as the engine's archive API makes it, so a
    backup restores the same way whichever path made it. Owners, modes and links are kept; nothing is followed."""
    process = subprocess.Popen(
        ["tar", "-C", str(folder), "--numeric-owner", "--transform", "s,^\\.,data,", "-cf", "-", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        while chunk := process.stdout.read(DATA_CHUNK):
            yield chunk
    except GeneratorExit:  # the reader stopped (the store failed): tar ends with its pipe, its error is moot
        process.kill()
        raise
    finally:
        process.stdout.close()
        problem = process.stderr.read().decode(errors="replace")[-500:]
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise ProvisioningError(f"Reading the data volume failed: {problem.strip() or 'tar failed'}")


def _untar_into(folder: Path, tar_chunks: Iterable[bytes]) -> None:
    """Unpack a backup's tar (entries under `data/`) into the empty volume folder, owners and modes as saved."""
    process = subprocess.Popen(
        ["tar", "-C", str(folder), "--numeric-owner", "--same-owner", "--strip-components=1", "-xf", "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        for chunk in tar_chunks:
            process.stdin.write(chunk)
        process.stdin.close()
    except BrokenPipeError:
        pass  # tar stopped early: its own message says why
    problem = process.stderr.read().decode(errors="replace")[-500:]
    if process.wait() != 0:
        raise ProvisioningError(f"Unpacking the backup failed: {problem.strip() or 'tar failed'}")


def engine_client(base_url: str | None, tls_dir: str | None, timeout: int) -> docker.DockerClient:
    """A client for one engine: unix:// or ssh:// as given (ssh through the system's ssh, which knows the host
    keys), tcp:// with TLS when the server names its certificate folder (ca.pem, cert.pem, key.pem)."""
    if not base_url:
        return docker.from_env(timeout=timeout)
    if tls_dir:
        folder = Path(tls_dir)
        tls = docker.tls.TLSConfig(
            client_cert=(str(folder / "cert.pem"), str(folder / "key.pem")),
            ca_cert=str(folder / "ca.pem"),
            verify=True,
        )
        return docker.DockerClient(base_url=base_url, timeout=timeout, tls=tls)
    return docker.DockerClient(base_url=base_url, timeout=timeout, use_ssh_client=base_url.startswith("ssh://"))


def _port_taken(exc: APIError) -> bool:
    text = str(exc).lower()
    return "port is already allocated" in text or "address already in use" in text


def _short(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).splitlines()[0][:300]


def _is_connection_problem(exc: DockerException) -> bool:
    text = repr(exc).lower()
    return any(word in text for word in ("connection", "timed out", "timeout", "no such file", "refused"))
