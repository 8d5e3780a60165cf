"""Custom CSS from resellers, checked before it is stored: it is injected into every page of their portal.

Refused rather than silently cleaned, so the reseller sees what was wrong: anything that could leave the style
element, load or run something, or reach another origin. What passes is plain style rules.
"""

from __future__ import annotations

import re

from services.errors import ValidationFailed

MAX_LENGTH = 20_000
# (pattern, what to tell the reseller); matched after comments are removed and escapes decoded
_FORBIDDEN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"<"), "must not contain \"<\" (no HTML, no </style>)"),
    (re.compile(r"@import", re.I), "must not use @import"),
    (re.compile(r"@charset|@namespace", re.I), "must not use @charset or @namespace"),
    (re.compile(r"expression\s*\(", re.I), "must not use expression()"),
    (re.compile(r"javascript\s*:|vbscript\s*:|data\s*:\s*text/html", re.I), "must not contain script URLs"),
    (re.compile(r"behavior\s*:|-moz-binding", re.I), "must not use behavior or -moz-binding"),
    (re.compile(r"url\s*\(\s*(?!['\"]?\s*(?:https://|/(?!/)))", re.I), "may only load url(https://...) or url(/...)"),
]
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)


def _decoded(css: str) -> str:
    """What a browser would read: CSS escapes such as \\6a (j) or \\: resolved, so they cannot hide a word."""
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            try:
                return chr(int(match.group(1), 16))
            except (ValueError, OverflowError):
                return "\ufffd"
        return match.group(2)

    return _ESCAPE.sub(replace, _COMMENT.sub("", css))


def sanitize_css(css: str | None) -> str:
    """The CSS to store, or ValidationFailed naming the first problem. Empty input is fine."""
    css = (css or "").replace("\r\n", "\n")
    if len(css) > MAX_LENGTH:
        raise ValidationFailed.single("custom_css", f"must be at most {MAX_LENGTH} characters")
    if "\x00" in css:
        raise ValidationFailed.single("custom_css", "must not contain NUL characters")
    readable = _decoded(css)
    if readable.count("{") != readable.count("}"):
        raise ValidationFailed.single("custom_css", "has unbalanced braces")
    for pattern, message in _FORBIDDEN:
        if pattern.search(readable) or pattern.search(css):
            raise ValidationFailed.single("custom_css", message)
    return css.strip()
