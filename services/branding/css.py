"""Custom CSS from sellers, checked with a real CSS parser before it is stored: it is injected into every page
of their portal, so it must never reach another origin, run anything or leave its style element.

tinycss2 tokenises the stylesheet the way a browser does: comments are dropped and escapes decoded before any
decision, so `@\\69mport`, `java\\73 cript:` or a keyword hidden behind a `/*` inside a string are seen for what
they are. What passes is re-serialised from the parsed tokens, so the browser later reads exactly what was
checked. An allow-list decides:

- at-rules: only grouping and animation rules (@media, @supports, @layer, @container, @keyframes) and @font-face;
- URLs (url(), src(), image-set() and the like): only the seller's own uploaded images on the portal's origin
  (/api/brand-assets/<their id>-...) or inline data: images and fonts; no scheme, host or protocol-relative URL;
- no expression(), behavior or -moz-binding; no "<" anywhere, so nothing can close the style element;
- a block left open at the end is closed by the re-serialisation, so nothing after it can be swallowed.

Refused rather than silently cleaned, so the seller sees what was wrong. One pass over the tokens: linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tinycss2
from tinycss2 import ast

from services.branding.assets import ASSET_ROUTE
from services.errors import ValidationFailed

MAX_LENGTH = 48 * 1024  # tinycss2 tokenises about 1 MB/s here: the whole check stays well under 100 ms
MAX_NESTING = 64
ALLOWED_AT_RULES = frozenset({"media", "supports", "layer", "container", "keyframes", "-webkit-keyframes", "font-face"})
URL_FUNCTIONS = frozenset({"url", "src", "image-set", "-webkit-image-set", "image", "cross-fade", "element"})
FORBIDDEN_FUNCTIONS = frozenset({"expression"})
FORBIDDEN_IDENTS = frozenset({"behavior", "-moz-binding"})
DATA_URL = re.compile(
    r"^data:(image/(png|jpeg|gif|webp)|font/(woff2?|ttf|otf)|application/font-woff2?)"
    r"(;[a-z0-9=.-]+)*,",
    re.I,
)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.single("custom_css", message)


def _url_allowed(url: str, organization_id: int | None) -> bool:
    url = url.strip()
    if DATA_URL.match(url):
        return True
    if organization_id is None:
        return False
    own = re.compile(r"^" + re.escape(ASSET_ROUTE) + str(int(organization_id)) + r"-[0-9a-f]{16}\.(png|jpg|gif|webp)$")
    return bool(own.match(url))


def _check_url(url: str, organization_id: int | None) -> None:
    if not _url_allowed(url, organization_id):
        shown = url if len(url) <= 60 else url[:57] + "..."
        raise _refuse(
            f"may only load your own uploaded images ({ASSET_ROUTE}...) or data: images and fonts, not {shown!r}"
        )


def _walk(nodes: Iterable[ast.Node], organization_id: int | None) -> None:
    """Every token once, iteratively (deep nesting cannot exhaust the stack), URL functions' strings checked."""
    stack: list[tuple[Iterable[ast.Node], bool, int]] = [(nodes, False, 0)]
    while stack:
        items, in_url_function, depth = stack.pop()
        if depth > MAX_NESTING:
            raise _refuse(f"nests blocks deeper than {MAX_NESTING} levels")
        for node in items:
            if isinstance(node, ast.ParseError):
                raise _refuse(f"is not valid CSS near line {node.source_line}: {node.message}")
            if isinstance(node, ast.URLToken) or (isinstance(node, ast.StringToken) and in_url_function):
                _check_url(node.value, organization_id)
            elif isinstance(node, ast.AtKeywordToken) and node.lower_value not in ALLOWED_AT_RULES:
                raise _refuse(f"must not use @{node.lower_value}")
            elif isinstance(node, ast.IdentToken) and node.lower_value in FORBIDDEN_IDENTS:
                raise _refuse(f"must not use {node.lower_value}")
            elif isinstance(node, ast.FunctionBlock):
                if node.lower_name in FORBIDDEN_FUNCTIONS:
                    raise _refuse(f"must not use {node.lower_name}()")
                stack.append((node.arguments, node.lower_name in URL_FUNCTIONS, depth + 1))
            elif isinstance(node, ast.ParenthesesBlock | ast.SquareBracketsBlock | ast.CurlyBracketsBlock):
                stack.append((node.content, in_url_function, depth + 1))
            elif isinstance(node, ast.QualifiedRule):
                stack.append((node.prelude, False, depth + 1))
                stack.append((node.content, False, depth + 1))
            elif isinstance(node, ast.AtRule):
                if node.lower_at_keyword not in ALLOWED_AT_RULES:
                    raise _refuse(f"must not use @{node.lower_at_keyword}")
                stack.append((node.prelude, False, depth + 1))
                if node.content is not None:
                    stack.append((node.content, False, depth + 1))


def sanitize_css(css: str | None, organization_id: int | None = None) -> str:
    """The CSS to store (re-serialised from what was checked), or ValidationFailed naming the first problem.

    `organization_id` is the seller whose uploaded images the CSS may use. Empty input is fine.
    """
    css = (css or "").replace("\r\n", "\n")
    if len(css) > MAX_LENGTH:
        raise _refuse(f"must be at most {MAX_LENGTH // 1024} KB")
    if "\x00" in css:
        raise _refuse("must not contain NUL characters")
    if "<" in css:
        raise _refuse('must not contain "<" (no HTML, no </style>)')
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    _walk(rules, organization_id)
    return str(tinycss2.serialize(rules)).strip()
