"""The message catalogues: gettext .po files (services/i18n/locales/<lang>/LC_MESSAGES/portal.po), read with Babel
once per process. A message's id is its English text, so English needs no catalogue and a German entry that is
missing shows the English text rather than nothing (the catalogue test fails on it before it ships)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

SOURCE_LANGUAGE = "en"
LANGUAGES = {"en": "English", "de": "Deutsch"}
LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "portal"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> dict[str, str]:
    """Every translated message of `language`, by its English text ({} for English itself)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return {}
    return {str(m.id): str(m.string) for m in catalog(language) if m.id and m.string and not m.fuzzy}


@lru_cache(maxsize=1)
def known_texts() -> frozenset[str]:
    """Every English text the portal shows (the catalogue test keeps each language's entries equal to them)."""
    return frozenset(text for language in LANGUAGES for text in translations(language))


def translate(language: str, text: str) -> str:
    return translations(language).get(text, text)


def N_(text: str) -> str:  # noqa: N802  (gettext's name for a text marked now and translated where it is shown)
    """Marks an English text in services for the catalogue (its test extracts every N_ with Babel); it is
    translated where it is shown, with `translate(language, text)`."""
    return text
