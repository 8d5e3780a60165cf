"""The page's language and its words: English in the prerendered page, then the visitor's (services.i18n)."""

from __future__ import annotations

import json

import reflex as rx

from portal.state.auth import AuthState
from portal.state.brand import BrandState
from services.accounts.language import check_language, page_language, set_language
from services.admin.words import texts_in
from services.db import session_scope
from services.errors import ValidationFailed
from services.i18n import SOURCE_LANGUAGE, translations


class LanguageState(rx.State):
    language: str = SOURCE_LANGUAGE
    texts: dict[str, str] = {}  # the language's translations by English text; {} for English (portal/components/i18n)
    chosen: str = rx.LocalStorage("", name="portal_language", sync=True)  # a visitor's own choice, before sign-in

    def _use(self, language: str, words: dict[str, dict[str, str]]) -> None:
        """The language and its texts: built in, then the seller's own words for it (services/admin/words.py)."""
        self.language, self.texts = language, texts_in(language, translations(language), words)

    @rx.event
    async def load(self, title: str = ""):
        """Second of every page's on_load, after the host's brand and before the page's own (which may load texts
        written by services in this language): who is signed in is looked up here already. The page's `title`
        (prerendered in English) is then set in the page's language."""
        auth, brand = await self.get_state(AuthState), await self.get_state(BrandState)
        auth._refresh()
        with session_scope() as session:
            language = page_language(
                session,
                auth._user_id,
                self.chosen,
                self.router.headers.accept_language,
                brand.brand.get("language"),
            )
        self._use(language, brand.words())
        shown = self.texts.get(title, title)
        return rx.call_script(f"document.title = {json.dumps(shown)}") if shown != title else None

    @rx.event
    async def choose(self, language: str):
        """The header's switch: kept in this browser, and on the account of whoever is signed in. The page is
        then loaded again, so what services wrote for it (statuses, dates, banners) comes in the new language."""
        try:
            check_language(language)
        except ValidationFailed:
            return None
        self.chosen = language
        auth = await self.get_state(AuthState)
        if auth._user_id:
            with session_scope() as session:
                set_language(session, auth._user_id, language)
        self._use(language, (await self.get_state(BrandState)).words())
        # this browser's choice is written before the reload reads it (the state's own sync could come after)
        return rx.call_script(f"localStorage.setItem('portal_language', '{language}'); window.location.reload()")
