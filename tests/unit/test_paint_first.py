"""The build step that lets a prerendered page paint before its scripts load (portal/paint_first.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portal.paint_first import NotAPrerenderedPage, paint_first, rewrite_pages

ENTRY = 'import "/assets/manifest-1.js";\nimport * as route0 from "/assets/root-2.js";\nimport("/assets/entry-3.js");'
PAGE = (
    '<html><head><link rel="stylesheet" href="/assets/styles.css"/>'
    '<link rel="modulepreload" href="/assets/manifest-1.js"/><link rel="modulepreload" href="/assets/root-2.js"/>'
    "</head><body><main>Your own instance</main>"
    f'<script type="module" async="">{ENTRY}</script><script>$RC("B:1","S:1")</script></body></html>'
)


def _loader_arguments(html: str) -> tuple[str, list[str]]:
    match = re.search(r"\}\)\((\".*?\"),(\[.*?\])\)</script>", html, re.S)
    assert match, html
    return json.loads(match.group(1)), json.loads(match.group(2))


def test_nothing_loads_or_runs_scripts_before_the_first_paint() -> None:
    html = paint_first(PAGE)
    assert '<link rel="modulepreload"' not in html and '<script type="module"' not in html
    assert '<link rel="stylesheet" href="/assets/styles.css"/>' in html and "<main>Your own instance</main>" in html
    assert "requestAnimationFrame" in html  # started from the frame after the first paint


def test_the_same_scripts_are_started_after_it_all_at_once() -> None:
    code, modules = _loader_arguments(paint_first(PAGE))
    assert code == ENTRY
    assert modules == ["/assets/manifest-1.js", "/assets/root-2.js"]


def test_script_text_cannot_close_the_loader_early() -> None:
    tricky = 'window.x = "</div><!-- <script>";'
    html = paint_first(PAGE.replace(ENTRY, tricky))
    assert "</div>" not in html and "<!--" not in html and html.count("<script>") == 2
    code, _ = _loader_arguments(html)
    assert code == tricky


def test_a_page_React_Router_no_longer_writes_the_same_way_fails_the_build() -> None:
    with pytest.raises(NotAPrerenderedPage):
        paint_first(PAGE.replace('type="module" async=""', 'type="module"'))
    with pytest.raises(NotAPrerenderedPage):
        paint_first(PAGE.replace("</body>", f'<script type="module" async="">{ENTRY}</script></body>'))


def test_every_page_of_a_build_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    for path in (tmp_path / "index.html", tmp_path / "pricing" / "index.html"):
        path.write_text(PAGE)
    (tmp_path / "robots.txt").write_text("User-agent: *")
    assert rewrite_pages(tmp_path) == 2
    assert '<script type="module"' not in (tmp_path / "pricing" / "index.html").read_text()


def test_a_build_without_pages_fails(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body>static</body></html>")
    with pytest.raises(NotAPrerenderedPage):
        rewrite_pages(tmp_path)
