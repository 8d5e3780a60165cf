"""SQLite job storage that wakes the consumer at once instead of letting it poll.

Huey's SQLite storage is polled: an idle consumer sleeps up to its max delay between looks, so every job that
arrives after a quiet spell waits for the next look (tens to hundreds of milliseconds). Here a producer sends one
datagram to the consumer's socket after committing a job, and the consumer's dequeue waits on that socket (with
a timeout, so nothing depends on the datagram arriving). That makes the storage "blocking" like Redis: the
consumer's workers never sleep between polls, and a job starts about a millisecond after its commit.

The socket is in Linux's abstract namespace (no file to clean up, no path length limit), named after the queue
database and queue name, so separate portals on one machine do not wake each other. The first consumer process
to dequeue owns it; a second consumer on the same queue simply polls (it still gets every job, just later).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import threading
import time

from huey import SqliteHuey
from huey.storage import SqliteStorage

log = logging.getLogger(__name__)

WAIT_SECONDS = 1.0  # a dequeue with no wake-up looks at the table again after this long
POLL_SECONDS = 0.25  # a consumer that does not own the socket


def wake_address(filename: str, queue: str) -> str:
    digest = hashlib.sha256(f"{filename}\0{queue}".encode()).hexdigest()[:24]
    return f"\0portal-huey-{digest}"


class WakeupSqliteStorage(SqliteStorage):
    blocking = True  # huey's worker loop then calls dequeue() back to back without sleeping

    def __init__(self, name: str = "huey", filename: str = "huey.db", **kwargs: object) -> None:
        super().__init__(name=name, filename=filename, **kwargs)
        self._address = wake_address(str(filename), name)
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)
        self._listener: socket.socket | None = None
        self._listener_lock = threading.Lock()
        self._owns_socket: bool | None = None

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        super().enqueue(data, priority)
        self.wake()

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # no consumer listening, or its buffer is full: it looks again soon
            self._sender.sendto(b"k", self._address)

    def dequeue(self) -> bytes | None:
        data = super().dequeue()
        if data is not None:
            return data
        listener, fresh = self._listen()
        if listener is None:
            time.sleep(POLL_SECONDS)
            return None
        if fresh:  # a job committed before the socket existed sent its wake-up to nobody: look once more
            return super().dequeue()
        try:
            listener.recv(16)
        except (TimeoutError, OSError):
            return None
        return super().dequeue()

    def _listen(self) -> tuple[socket.socket | None, bool]:
        """The consumer's socket and whether it was bound just now (the first dequeue binds it)."""
        if self._owns_socket is False:
            return None, False
        with self._listener_lock:
            if self._listener is not None or self._owns_socket is not None:
                return self._listener, False
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                listener.bind(self._address)
            except OSError:
                log.info("another consumer owns the wake-up socket of this queue: polling instead")
                listener.close()
                self._owns_socket = False
                return None, False
            listener.settimeout(WAIT_SECONDS)
            self._listener, self._owns_socket = listener, True
            return listener, True


class WakeupSqliteHuey(SqliteHuey):
    storage_class = WakeupSqliteStorage
