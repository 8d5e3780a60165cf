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
