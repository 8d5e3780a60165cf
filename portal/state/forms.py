"""What every form handler does with a refused input: errors go next to their fields, nothing else changes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import reflex as rx
from reflex.event import EventSpec

from portal.state.language import LanguageState
from services.errors import RateLimited, ValidationFailed
from services.i18n import N_, SOURCE_LANGUAGE
from services.i18n.message import localise, localise_all

T = TypeVar("T")

log = logging.getLogger(__name__)

UNEXPECTED = N_("Something went wrong on our side. Nothing was changed; please try again in a moment.")


def errors_from(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if isinstance(exc, RateLimited | PermissionError):  # PermissionError: a refused access, its message is safe
        return {"": str(exc)}
    log.exception("unexpected error in a form handler", exc_info=exc)
    return {"": UNEXPECTED}


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    errors: dict[str, str] = field(default_factory=dict)
    refused: bool = False  # no access (as opposed to bad input): shown for the page, not next to a field

    @property
    def ok(self) -> bool:
        return not self.errors


async def language_of(state: rx.State | None) -> str:
    """The language the page of `state` is shown in (portal/state/language.py), for what services wrote."""
    return (await words_of(state))[0]


async def words_of(state: rx.State | None) -> tuple[str, dict[str, str]]:
    """The page's language and its texts (built in, with the seller's own words: portal/state/language.py)."""
    if state is None:
        return SOURCE_LANGUAGE, {}
    page = await state.get_state(LanguageState)
    return page.language, page.texts


async def notice(state: rx.State, text: str, kind: str = "success") -> EventSpec:
    """A toast in the page's language, in the seller's words where it has some: `text` is marked where it is
    written (N_ or say)."""
    shown = str(localise(text, *await words_of(state)))
    return rx.toast.info(shown) if kind == "info" else rx.toast.success(shown)


async def attempt(
    work: Awaitable[T],
    state: rx.State | None = None,
    *,
    language: str | None = None,
    words: dict[str, str] | None = None,
) -> Outcome[T]:
    """The one place a handler's call into the services is guarded. A refusal (bad input, no access, too many
    attempts) becomes messages for the form, in the language of the page of `state` and the seller's words (or
    `language` and `words`, for a background event that read them under its lock); anything else is logged and
    shown as a plain apology. Either way the service's transaction was rolled back, so nothing is half done."""
    try:
        return Outcome(value=await work)
    except Exception as exc:  # noqa: BLE001 - errors_from() tells refusals (shown) from bugs (logged)
        page_language, page_words = (language, words) if language else await words_of(state)
        errors = localise_all(errors_from(exc), page_language, page_words)
        return Outcome(errors=errors, refused=isinstance(exc, PermissionError))
