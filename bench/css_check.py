"""Custom CSS check: how long services.branding.css takes on the largest stylesheet it accepts, and how fast a
200 KB one is turned away. Prints `name: value unit` lines.

    .venv/bin/python bench/css_check.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from services.branding.css import MAX_LENGTH, sanitize_css
from services.errors import ValidationFailed

RULE = (
    ".card-{i} .title:hover > a[href^='x'] {{ color: #123456; background: url(/api/brand-assets/7-"
    "0123456789abcdef.png) no-repeat, linear-gradient(90deg, red 0%, blue 100%); margin: 0 auto; "
    "font: 600 14px/1.4 system-ui, sans-serif; }}\n"
)


def stylesheet(size: int) -> str:
    rules, total, i = [], 0, 0
    while total + len(RULE) + 8 < size:
        rule = RULE.format(i=i)
        rules.append(rule)
        total += len(rule)
        i += 1
    return "".join(rules)


def timed(css: str, runs: int = 15) -> list[float]:
    figures = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.suppress(ValidationFailed):
            sanitize_css(css, organization_id=7)
        figures.append((time.perf_counter() - started) * 1000)
    return sorted(figures)


def main() -> None:
    largest = stylesheet(MAX_LENGTH)
    accepted = timed(largest)
    refused = timed(stylesheet(200 * 1024))
    print(f"largest accepted stylesheet: {len(largest) / 1024:.1f} KB")
    print(f"check p50 (largest accepted): {statistics.median(accepted):.1f} ms")
    print(f"check p95 (largest accepted): {accepted[round(len(accepted) * 0.95) - 1]:.1f} ms")
    print(f"check p95 (200 KB, refused): {refused[round(len(refused) * 0.95) - 1]:.3f} ms")
    per_kb = statistics.median(timed(stylesheet(MAX_LENGTH // 4))) / (MAX_LENGTH / 4 / 1024)
    print(
        f"linear time ratio (full size per KB / quarter size per KB): "
        f"{statistics.median(accepted) / (len(largest) / 1024) / per_kb:.2f} ratio"
    )


if __name__ == "__main__":
    main()
