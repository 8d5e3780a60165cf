"""Lighthouse 12.2.3 (mobile profile, its default simulated throttling) on the public pages of the portal started as
`make run` starts it: performance, accessibility, best practices and SEO of the landing, pricing, sign-up and
sign-in pages. Prints `lighthouse_<page>_<category>: <score> score` (0 to 100), and each page's first and largest
contentful paint, so a change is measured against the previous run's figures (the issue's target: 95 or more).

Needs Node 20 and Debian's Chromium; lighthouse itself comes from the npm registry (`make lighthouse`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _support import ROOT, free_port, portal_env, running_portal, temp_var

LIGHTHOUSE = ROOT / ".tools" / "node_modules" / ".bin" / "lighthouse"
PAGES = {"landing": "/", "pricing": "/pricing", "signup": "/signup", "login": "/login"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
RUNS = 3  # the median of three runs per page: one run's score moves by a few points


def _ensure_lighthouse() -> None:
    if not LIGHTHOUSE.exists():
        subprocess.run(["make", "lighthouse"], cwd=ROOT, check=True)


def _audit(url: str) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        out = Path(profile) / "report.json"
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={out}",
                f"--only-categories={','.join(CATEGORIES)}",
                f"--chrome-flags=--headless=new --no-sandbox --user-data-dir={profile}/chrome",
            ],
            env={**os.environ, "CHROME_PATH": os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")},
            check=True,
            capture_output=True,
            timeout=180,
        )
        return json.loads(out.read_text())


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> int:
    _ensure_lighthouse()
    port = free_port()
    with running_portal(portal_env(temp_var(), port)) as base:
        _audit(base + "/")  # the first visit compiles nothing, but warms the server's caches: not counted
        for name, path in PAGES.items():
            reports = [_audit(base + path) for _ in range(RUNS)]
            for category in CATEGORIES:
                score = _median([round(100 * (r["categories"][category]["score"] or 0)) for r in reports])
                print(f"lighthouse_{name}_{category.replace('-', '_')}: {score:.0f} score", flush=True)
            for audit, label in (("first-contentful-paint", "fcp"), ("largest-contentful-paint", "lcp")):
                ms = _median([r["audits"][audit]["numericValue"] for r in reports])
                print(f"lighthouse_{name}_{label}: {ms:.0f} ms", flush=True)
            worst = [
                f"{a['id']} ({a['score']})"
                for a in reports[0]["audits"].values()
                if a.get("score") is not None and a["score"] < 0.9 and a.get("scoreDisplayMode") == "binary"
            ]
            if worst:
                print(f"# {name}: failing audits: {', '.join(sorted(worst))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
