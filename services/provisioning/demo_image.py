"""The demo application image, built without a registry: a busybox-static rootfs imported into Docker.

Its httpd serves /health, /cgi-bin/env (the container's environment), so anyone can see that the
portal's environment and limits reached the instance, and /cgi-bin/note (the note.txt it keeps in its data volume,
which backups and moves carry along). `portal-admin demo-image` builds it.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker
from docker.errors import ImageNotFound

DEMO_IMAGE = "local/app:latest"
BUSYBOX = Path("/bin/busybox")
INDEX = b"<!doctype html><title>Your instance</title><h1>Your instance is running</h1>\n"


def rootfs_tar(busybox: Path = BUSYBOX) -> bytes:
    if not busybox.exists():
        raise FileNotFoundError(f"{busybox} not found (apt-get install busybox-static)")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add(name: str, data: bytes | None = None, mode: int = 0o644, link: str | None = None) -> None:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            elif data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), mode
                tar.addfile(info, io.BytesIO(data))

        for directory in ("bin", "www", "www/cgi-bin", "data", "tmp", "proc", "sys", "dev", "etc"):
            add(directory)
        add("bin/busybox", busybox.read_bytes(), 0o755)
        for applet in ("sh", "httpd", "env", "cat", "sleep", "echo"):
            add(f"bin/{applet}", link="busybox")
        add("www/index.html", INDEX)
        add("www/health", b"ok\n")
        add("www/cgi-bin/env", b'#!/bin/sh\necho "Content-Type: text/plain"\necho\nenv\n', 0o755)
        # the note the app keeps in its data volume: what backups, restores and moves must carry along
        add("www/cgi-bin/note", b'#!/bin/sh\necho "Content-Type: text/plain"\necho\ncat /data/note.txt\n', 0o755)
    return buffer.getvalue()


def build(client: docker.DockerClient, image: str = DEMO_IMAGE, busybox: Path = BUSYBOX) -> str:
    """Idempotent: an existing image is kept."""
    try:
        client.images.get(image)
        return image
    except ImageNotFound:
        pass
    repository, tag = image.rsplit(":", 1)
    client.api.import_image_from_data(
        rootfs_tar(busybox),
        repository=repository,
        tag=tag,
        changes=['CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]', "ENV PATH=/bin"],
    )
    client.images.get(image)
    return image
