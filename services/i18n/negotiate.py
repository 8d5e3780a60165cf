"""Which language a person gets: the one they chose in their account, else the first their browser asks for
(Accept-Language, by its q-values) that the portal speaks, else the seller's default, else English."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from services.i18n.catalog import LANGUAGES, SOURCE_LANGUAGE

MAX_HEADER = 1000  # an Accept-Language header longer than any browser sends is not parsed at all


def _asked(accept_language: str) -> list[str]:
    """The header's languages, most wanted first (`de-CH,de;q=0.9,en;q=0.8` -> de, de, en)."""
    if len(accept_language) > MAX_HEADER:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if not tag or tag == "*" or quality <= 0:
            continue
        try:
            language = Locale.parse(tag.strip(), sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        weighted.append((-quality, position, language))
    return [language for _, _, language in sorted(weighted)]


def choose_language(chosen: str | None, accept_language: str | None, seller_default: str | None) -> str:
    if chosen in LANGUAGES:
        return str(chosen)
    for language in _asked(accept_language or ""):
        if language in LANGUAGES:
            return language
    return seller_default if seller_default in LANGUAGES else SOURCE_LANGUAGE
