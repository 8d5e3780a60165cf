"""The page's language and its words: English in the prerendered page, then the visitor's (services.i18n)."""

from __future__ import annotations

import reflex as rx

from portal.state.auth import AuthState
from portal.state.brand import BrandState
from services.accounts.language import check_language, page_language, set_language
from services.db import session_scope
from services.errors import ValidationFailed
from services.i18n import SOURCE_LANGUAGE, translations


class LanguageState(rx.State):
    language: str = SOURCE_LANGUAGE
    texts: dict[str, str] = {}  # the language's translations by English text; {} for English (portal/components/i18n)
    chosen: str = rx.LocalStorage("", name="portal_language", sync=True)  # a visitor's own choice, before sign-in

    def _use(self, language: str) -> None:
        if language != self.language:
            self.language, self.texts = language, translations(language)

    @rx.event
    async def load(self) -> None:
        """Last of every page's on_load: the person, the host's brand and the browser are known by then."""
        auth, brand = await self.get_state(AuthState), await self.get_state(BrandState)
        with session_scope() as session:
            language = page_language(
                session,
                auth._user_id,
                self.chosen,
                self.router.headers.accept_language,
                brand.brand.get("language"),
            )
        self._use(language)

    @rx.event
    async def choose(self, language: str) -> None:
        """The header's switch: kept in this browser, and on the account of whoever is signed in."""
        try:
            check_language(language)
        except ValidationFailed:
            return
        self.chosen = language
        auth = await self.get_state(AuthState)
        if auth._user_id:
            with session_scope() as session:
                set_language(session, auth._user_id, language)
        self._use(language)
