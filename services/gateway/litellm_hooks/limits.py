"""Requests and tokens per minute per key, counted in this gateway process over a moving minute.

Requests are counted when they are let through; tokens when their usage is known (after the call), so a key
over its tokens per minute is refused from its next request on, the way providers' own limits behave."""

from __future__ import annotations

import time
from collections import defaultdict, deque

WINDOW = 60.0


class MinuteCounters:
    def __init__(self) -> None:
        self._requests: dict[str, deque[float]] = defaultdict(deque)
        self._tokens: dict[str, deque[tuple[float, int]]] = defaultdict(deque)

    def _trim(self, key_hash: str, now: float) -> None:
        requests, tokens = self._requests[key_hash], self._tokens[key_hash]
        while requests and requests[0] <= now - WINDOW:
            requests.popleft()
        while tokens and tokens[0][0] <= now - WINDOW:
            tokens.popleft()

    def refusal(self, key_hash: str, rpm: int | None, tpm: int | None) -> tuple[str, int] | None:
        """Why the key must wait and for how many seconds, or None (and the request is counted)."""
        now = time.monotonic()
        self._trim(key_hash, now)
        requests, tokens = self._requests[key_hash], self._tokens[key_hash]
        if rpm is not None and len(requests) >= rpm:
            return f"the plan allows {rpm} requests per minute", max(1, int(requests[0] + WINDOW - now) + 1)
        if tpm is not None and sum(n for _t, n in tokens) >= tpm:
            return f"the plan allows {tpm} tokens per minute", max(1, int(tokens[0][0] + WINDOW - now) + 1)
        requests.append(now)
        return None

    def add_tokens(self, key_hash: str, count: int) -> None:
        if count > 0:
            self._tokens[key_hash].append((time.monotonic(), count))
