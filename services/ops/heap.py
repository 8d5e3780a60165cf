"""Keep the garbage collector's full passes off the requests: what a process builds at start-up is set aside.

A web process holds about 215,000 objects once the Reflex app is built (compiled pages, SQLAlchemy mappers,
imported modules). CPython's full collection walks every one of them, about 125 ms here, and it runs inside
whichever request happens to allocate when the long-lived objects have grown by a quarter. Measured on the edge:
Caddy's question to /api/edge/ask took 113 ms instead of 1 ms in one round of twenty, and that round was the p95.

`gc.freeze()` moves everything alive at that moment into a generation the collector never walks. Start-up objects
live as long as the process, so nothing is lost: later full collections walk only what requests made since, and
cycles among those are still found and freed. Once per process: the consumer's worker threads each call it as
they start, and a test process builds the app many times.
"""

from __future__ import annotations

import gc
import threading

_LOCK = threading.Lock()
_SETTLED = threading.Event()


def settle_after_startup() -> int:
    """Collect start-up's garbage, then set every surviving object aside (once per process); returns how many
    objects are set aside."""
    with _LOCK:
        if not _SETTLED.is_set():
            gc.collect()
            gc.freeze()
            _SETTLED.set()
        return gc.get_freeze_count()


def unsettle() -> None:
    """Give the set-aside objects back to the collector (tests, so one test's start-up is not kept for all)."""
    with _LOCK:
        gc.unfreeze()
        _SETTLED.clear()
