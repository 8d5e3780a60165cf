"""`t("Sign in")`: the text in the page's language. English is the message id itself, so a page prerenders in
English and a missing translation shows English, never nothing. Every text passed here is recorded (`USED`):
tests/unit/test_translations.py fails when one has no German, or German has one no page uses."""

from __future__ import annotations

import reflex as rx

from portal.state.language import LanguageState

USED: set[str] = set()


def t(text: str) -> rx.Var[str]:
    if not isinstance(text, str):  # a Var here would be a text looked up twice, or a value that is not ours
        raise TypeError(f"t() takes the English text itself, not {type(text).__name__}")
    USED.add(text)
    return LanguageState.texts.get(text, text).to(str)


def tr(text: str | rx.Var) -> str | rx.Var:
    """`t` for a text that may already be a Var (a label a caller computed): only plain text is looked up."""
    return t(text) if isinstance(text, str) and text else text
