"""A real DNS server for tests: Debian's dnsmasq on a loopback port, answering only the records we give it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dns.resolver
import pytest

from tests.support.servers import free_port


def dnsmasq_binary() -> str:
    binary = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)
    if binary is None:
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail("dnsmasq is not installed but PORTAL_REQUIRE_ALL=1 (apt-get install dnsmasq-base)")
        pytest.skip("dnsmasq is not installed (apt-get install dnsmasq-base)")
    return binary


@contextmanager
def dns_server(txt: dict[str, str]) -> Iterator[str]:
    """Serve the TXT records `name -> value` on 127.0.0.1; yields "127.0.0.1:<port>" for DNS_RESOLVER."""
    port = free_port()
    command = [
        dnsmasq_binary(),
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        f"--port={port}",
        "--user=root" if os.geteuid() == 0 else "--user=",
        "--pid-file=",
        "--log-facility=-",
    ]
    command += [f"--txt-record={name},{value}" for name, value in txt.items()]
    # answer for these zones itself (NXDOMAIN for what it does not hold) instead of refusing
    command += [f"--local=/{zone}/" for zone in sorted({"invalid", *(n.rsplit(".", 1)[-1] for n in txt)})]
    process = subprocess.Popen(
        [c for c in command if c != "--user="], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 0.5
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            resolver.resolve("ready.invalid", "TXT")
        except dns.resolver.NXDOMAIN:
            break  # it answers
        except Exception as exc:
            if process.poll() is not None:
                raise RuntimeError(
                    f"dnsmasq exited: {process.stderr.read().decode() if process.stderr else ''}"
                ) from exc
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class DnsZone:
    """A real DNS server whose records the test changes at will: dnsmasq restarted on the same loopback port
    with the new records (it reads records given on its command line only at start).

    `txt` name -> value, `a` name -> address, `cname` alias -> target (the target must have an A record here),
    `caa` name -> [(tag, value)]; every name under `zones` that has no record is answered NXDOMAIN.
    """

    def __init__(self, zones: tuple[str, ...]) -> None:
        self.port = free_port()
        self.zones = zones
        self.txt: dict[str, str] = {}
        self.a: dict[str, str] = {}
        self.cname: dict[str, str] = {}
        self.caa: dict[str, list[tuple[str, str]]] = {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        command = [
            dnsmasq_binary(),
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            f"--port={self.port}",
            "--pid-file=",
            "--log-facility=-",
            "--no-negcache",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        command += [f"--txt-record={name},{value}" for name, value in self.txt.items()]
        command += [f"--host-record={name},{address}" for name, address in self.a.items()]
        command += [f"--cname={alias},{target}" for alias, target in self.cname.items()]
        for name, records in self.caa.items():
            for tag, value in records:
                data = bytes([0, len(tag)]) + tag.encode() + value.encode()
                command.append(f"--dns-rr={name},257,{data.hex()}")
        command += [f"--local=/{zone}/" for zone in sorted({"invalid", *self.zones})]
        return command

    def apply(self) -> None:
        """Serve the records as they are now (a restart of the server on the same port)."""
        self.stop()
        self._process = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], self.port, 0.5
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                resolver.resolve("ready.invalid", "TXT")
            except dns.resolver.NXDOMAIN:
                return
            except Exception as exc:
                if self._process.poll() is not None:
                    error = self._process.stderr.read().decode() if self._process.stderr else ""
                    raise RuntimeError(f"dnsmasq exited: {error}") from exc
                time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def dns_zone(*zones: str) -> Iterator[DnsZone]:
    zone = DnsZone(zones)
    zone.apply()
    try:
        yield zone
    finally:
        zone.stop()
