"""Where a reseller's e-mail template may put the links that carry tokens (verify, reset, invitation).

A reseller may rewrite every e-mail its customers get, but a token must never leave the portal's own link: no
`<img src="https://reseller.example/?t={{ link }}">`, no `{{ link | replace(...) }}`, no link in the subject.
So the real link never enters the reseller's template at all. The template renders with a random marker in its
place; the result is cleaned by an HTML sanitiser (nh3: only e-mail-safe tags and attributes survive), parsed
(html.parser) and the marker is accepted in exactly two places: as the whole `href` of an `<a>` element, or as a
word of its own in the text. Only then is the marker replaced by the link. Anything else refuses the template.
"""

from __future__ import annotations

import html
import re
import secrets
from html.parser import HTMLParser

import nh3

LINK_VARIABLES = ("link",)
WHERE = '{{ link }} may only be the whole href of a link (<a href="{{ link }}">…</a>) or stand on its own in the text'
_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "small",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "center",
    "font",
}
_ATTRIBUTES = {
    "*": {"style", "align", "class", "dir", "title", "width", "height", "bgcolor", "color"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan", "valign"},
    "th": {"colspan", "rowspan", "valign"},
    "table": {"cellpadding", "cellspacing", "border"},
    "font": {"face", "size"},
}


class UnsafeLinkUse(ValueError):
    pass


def markers() -> dict[str, str]:
    """A fresh random marker per link variable (letters and digits only: escaping never changes it)."""
    return {name: f"PORTALLINK{secrets.token_hex(12)}" for name in LINK_VARIABLES}


def _alone_as_word(text: str, marker: str) -> bool:
    """Every occurrence has whitespace (or the start or end of the text) on both sides."""
    return all(
        (m.start() == 0 or text[m.start() - 1].isspace()) and (m.end() == len(text) or text[m.end()].isspace())
        for m in re.finditer(marker, text)
    )


class _Placement(HTMLParser):
    def __init__(self, marker_values: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.marker_values = marker_values
        self.problem = ""

    def _has(self, value: str | None) -> bool:
        return value is not None and any(m in value for m in self.marker_values)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if self._has(value) and not (tag == "a" and name == "href" and value in self.marker_values):
                self.problem = f"<{tag} {name}=…>"

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        for marker in self.marker_values:
            if marker in data and not _alone_as_word(data, marker):
                self.problem = "text"

    def handle_comment(self, data: str) -> None:
        if self._has(data):
            self.problem = "a comment"

    def handle_decl(self, decl: str) -> None:
        if self._has(decl):
            self.problem = "a declaration"

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self.handle_decl(data)


def clean_html(rendered: str) -> str:
    """The reseller's HTML with only e-mail-safe tags and attributes (no script, style, forms, event handlers)."""
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def place(rendered: str, marks: dict[str, str], links: dict[str, str], part: str) -> str:
    """The rendered part with each marker replaced by its real link, or UnsafeLinkUse naming the place."""
    present = {name: marker for name, marker in marks.items() if marker in rendered}
    if not present:
        return rendered
    if part == "subject":
        raise UnsafeLinkUse("the subject cannot contain {{ link }}")
    if part == "html":
        parser = _Placement(list(present.values()))
        parser.feed(rendered)
        parser.close()
        if parser.problem:
            raise UnsafeLinkUse(f"{WHERE} (found in {parser.problem})")
    else:
        for marker in present.values():
            if not _alone_as_word(rendered, marker):
                raise UnsafeLinkUse(WHERE)
    for name, marker in present.items():
        real = links.get(name, "")
        rendered = rendered.replace(marker, html.escape(real, quote=True) if part == "html" else real)
    return rendered
