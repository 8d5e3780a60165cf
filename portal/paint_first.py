"""Paint first, then hydrate: a build step for the prerendered pages.

React Router's prerendered HTML asks for every script of the page (about 260 KB compressed on the landing page)
at high priority, right beside the stylesheet, and runs them as soon as they arrive. On a phone on a slow network
those scripts share the line with the stylesheet and their evaluation can hold back the first paint, although the
HTML already holds the whole page. After the production build this plugin rewrites each page so the browser paints
the HTML first and only then asks for the scripts (all at once, as the modulepreload links did) and hydrates.
A page then shows in the time of its HTML and stylesheet, and becomes interactive a frame later than before.

A tab opened in the background never paints, so the scripts start after at most a second there anyway.
`window.__portal_paint_first = false` (set before the page loads) starts them at once, as before: the browser
tests set it, so a test that types right after the page's `load` event types into a hydrated page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from reflex_base.plugins.base import Plugin

# what React Router 8's prerender writes (reflex.lock pins it); a page without exactly one entry script fails the
# build rather than shipping a page that would never hydrate
ENTRY_SCRIPT = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)
MODULE_PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
FALLBACK_MS = 1000

LOADER = (
    "<script>(function(code,modules){var started=false;function start(){if(started)return;started=true;"
    'modules.forEach(function(href){var l=document.createElement("link");l.rel="modulepreload";l.href=href;'
    "document.head.appendChild(l);});"
    'var s=document.createElement("script");s.type="module";s.textContent=code;document.body.appendChild(s);}'
    "if(window.__portal_paint_first===false){start();return;}"
    "requestAnimationFrame(function(){setTimeout(start,0);});setTimeout(start,%d);})(%s,%s)</script>"
)


class NotAPrerenderedPage(ValueError):
    """The HTML does not have the one entry script React Router writes: Reflex or React Router changed."""


def _inline_json(value: object) -> str:
    """JSON that cannot end, or change how the browser reads, the <script> it sits in (no "<" at all)."""
    return json.dumps(value).replace("<", "\\u003c")


def paint_first(html: str) -> str:
    """The page with its entry script and module preloads started after its first paint."""
    entries = ENTRY_SCRIPT.findall(html)
    if len(entries) != 1:
        raise NotAPrerenderedPage(f"expected one entry script, found {len(entries)}")
    modules = MODULE_PRELOAD.findall(html)
    html = MODULE_PRELOAD.sub("", html)
    loader = LOADER % (FALLBACK_MS, _inline_json(entries[0]), _inline_json(modules))
    return ENTRY_SCRIPT.sub(lambda _match: loader, html, count=1)


def rewrite_pages(static_dir: Path) -> int:
    """Every prerendered page of the build (before Reflex compresses them); returns how many were rewritten."""
    count = 0
    for path in sorted(static_dir.rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        if not ENTRY_SCRIPT.search(html):
            continue  # not a page of the app (none today; a static file a seller could not have put there)
        path.write_text(paint_first(html), encoding="utf-8")
        count += 1
    if count == 0:
        raise NotAPrerenderedPage(f"no prerendered page in {static_dir}")
    return count


class PaintFirstPlugin(Plugin):
    """Runs `rewrite_pages` after `react-router build`, before Reflex writes the compressed copies."""

    def post_build(self, **context: Any) -> None:
        rewrite_pages(Path(context["static_dir"]))
