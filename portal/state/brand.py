"""The brand of the host the page was opened on (a reseller's domain shows the reseller's brand).

Display only: nothing is authorised by it. Until `loaded` the brand is neutral (no name, grey), so a prerendered
page never flashes the platform's name and colours on a reseller's domain.
"""

from __future__ import annotations

import reflex as rx

from services.branding.brand import NEUTRAL, brand_for_host, shown
from services.db import session_scope


class BrandState(rx.State):
    loaded: bool = False
    brand: dict[str, str] = NEUTRAL  # keys: services.branding.brand.SHOWN; the host's once `loaded`
    _organization_id: int = 0  # the seller of this host: its plans are offered, its signups land under it
    _words: dict[str, dict[str, str]] = {}  # the seller's own texts, per language (LanguageState shows them)

    def _host(self) -> str:
        return self.router.url.hostname or ""

    def _resolve(self) -> None:
        with session_scope() as session:
            brand = brand_for_host(session, self._host())
        self._organization_id = brand.organization_id or 0
        self._words = brand.words or {}
        self.brand = shown(brand)
        self.loaded = True

    @rx.event
    def load(self):
        self._resolve()
        favicon = self.brand.get("favicon_url", "")
        if favicon:  # the page's icon lives in <head>, outside the components: set it there
            return rx.call_script(
                "(() => { let l = document.querySelector(\"link[rel='icon']\"); if (!l) { l = document.createElement"
                "('link'); l.rel = 'icon'; document.head.appendChild(l); } l.href = " + repr(favicon) + "; })()"
            )
        return None

    def words(self) -> dict[str, dict[str, str]]:
        """For LanguageState: the seller's own texts (resolved now if the page has not yet)."""
        if not self.loaded:
            self._resolve()
        return self._words

    def seller_id(self) -> int | None:
        """For other states: the organization this host sells for (resolved now if the page has not yet)."""
        if not self.loaded:
            self._resolve()
        return self._organization_id or None
