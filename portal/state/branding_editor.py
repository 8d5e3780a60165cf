"""The branding editor: the form's values drive the live preview; Save checks and stores them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from portal.state.acting import staff_outside_lock
from portal.state.admin import AdminState
from portal.state.forms import Outcome, notice
from services.admin import branding as editor
from services.admin import domains as seller_domains
from services.admin import words as seller_words
from services.branding.contrast import contrast_warning
from services.i18n import N_
from services.i18n.catalog import known_texts
from services.tenancy.scope import Actor

ALL_LANGUAGES = "all"  # the e-mail editor's choice for parts every language gets


class BrandingEditorState(AdminState):
    own: dict[str, str] = {}  # the organization's own values: keys services.admin.branding.EDITABLE and IMAGES
    hide_platform_branding: bool = False
    inherited: dict[str, str] = {}
    domains: list[dict[str, Any]] = []  # the seller's portal domains, with status and the records to create
    email_overrides: dict[str, dict[str, str]] = {}
    email_template: str = "welcome"
    email_language: str = ""  # "" = the parts for every language; "de" = for German recipients only
    email_parts: dict[str, str] = {}
    words: dict[str, dict[str, str]] = {}  # the seller's own texts, per language (services/admin/words.py)
    word_language: str = "en"
    word_text: str = ""  # which built-in text
    word_replacement: str = ""
    known_texts: list[str] = []  # every built-in text, suggested as the seller types
    field_errors: dict[str, str] = {}
    sender: dict[str, str] = {}  # the seller's own From address and the DNS record that proves it
    _org_id: int = 0

    def _fill(self, session: Session, actor: Actor | None) -> None:
        self._reload(session, actor)
        if actor is None:
            return
        self._org_id = actor.organization_id
        data = editor.current(session, actor, actor.organization_id)
        self.own = data["own"]
        self.hide_platform_branding = data["hide_platform_branding"]
        self.inherited = {k: str(v) for k, v in data["effective"].items() if isinstance(v, str | bool)}
        self.domains = seller_domains.domains_of(session, actor, actor.organization_id)
        self.email_overrides = data["email_templates"]
        self.email_parts = dict(self.email_overrides.get(self._email_key(), {}))
        self.words = data["words"]
        self.known_texts = sorted(known_texts())
        self.sender = editor.sender_status(session, actor, actor.organization_id)

    @rx.event
    async def load_editor(self) -> None:
        self.error, self.field_errors = "", {}
        await self._run(self._fill)

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in editor.EDITABLE:
            self.own = {**self.own, name: value}

    @rx.var
    def accent_warning(self) -> str:
        """Said before saving when white text on the chosen accent cannot be read (the portal uses dark text)."""
        return contrast_warning(self.own.get("accent_color") or self.inherited.get("accent_color", ""))

    @rx.event
    def set_hide(self, value: bool) -> None:
        self.hide_platform_branding = value

    @rx.event
    async def save(self):
        values: dict[str, object] = {name: self.own.get(name, "") for name in editor.EDITABLE}
        values["hide_platform_branding"] = self.hide_platform_branding
        ip, org_id = self._ip(), self._org_id
        outcome = await self._attempt(lambda s, a: editor.update(s, a, org_id, values, ip=ip))
        self.field_errors = {} if outcome.refused else outcome.errors  # bad fields: shown next to them
        if outcome.ok:
            yield await notice(self, N_("Brand saved. Your portal shows it from the next page load."))

    async def _store(self, files: list[rx.UploadFile], kind: str):
        if not files:
            return None
        data = await files[0].read()
        ip, org_id = self._ip(), self._org_id
        outcome = await self._attempt(lambda s, a: editor.store_logo(s, a, org_id, data, ip=ip, kind=kind))
        self.field_errors = {kind: "; ".join(outcome.errors.values())} if outcome.errors and not outcome.refused else {}
        url = outcome.value
        if url:
            self.own = {**self.own, f"{kind}_url": url}
            self.field_errors = {}
            return await notice(self, N_("Logo uploaded.") if kind == "logo" else N_("Favicon uploaded."))
        return None

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        return await self._store(files, "logo")

    @rx.event
    async def upload_favicon(self, files: list[rx.UploadFile]):
        return await self._store(files, "favicon")

    @rx.event
    async def add_domain(self, form: dict[str, str]):
        ip, org_id = self._ip(), self._org_id
        hostname = form.get("hostname") or ""
        outcome = await self._attempt(lambda s, a: seller_domains.add_domain(s, a, org_id, hostname, ip=ip))
        self.field_errors = {} if outcome.refused else outcome.errors
        if outcome.ok:
            await self._run(self._fill)
            yield await notice(
                self, N_("Domain added. Create the records shown; it carries your brand once they prove it."), "success"
            )

    @rx.event
    async def remove_domain(self, domain_id: int):
        ip = self._ip()
        outcome = await self._attempt(lambda s, a: seller_domains.remove_domain(s, a, int(domain_id), ip=ip))
        if outcome.ok:
            await self._run(self._fill)
            yield await notice(self, N_("Domain removed."), "info")

    @rx.event
    async def check_domain(self, domain_id: int):
        outcome = await self._attempt(lambda s, a: seller_domains.check_domain_now(s, a, int(domain_id)))
        if outcome.ok:
            yield await notice(self, N_("Checking now. Reload in a moment to see the result."), "info")

    async def _sender_change(self, work: Callable[[Session, Actor | None], object], done: str) -> EventSpec | None:
        return await self._sender_shown(await self._attempt(work), done)

    async def _sender_shown(self, outcome: Outcome[Any], done: str) -> EventSpec | None:
        if outcome.refused:
            self.error = "; ".join(outcome.errors.values())
        self.field_errors = {} if outcome.refused else outcome.errors
        if outcome.ok:
            await self._run(self._fill)
            return await notice(self, done)
        return None

    @rx.event
    async def set_sender(self, form: dict[str, str]):
        ip, org_id, email = self._ip(), self._org_id, form.get("sender_email") or ""
        return await self._sender_change(
            lambda s, a: editor.set_sender(s, a, org_id, email, ip=ip),
            N_("Saved. Publish the DNS record shown, then verify."),
        )

    @rx.event(background=True)
    async def verify_sender(self):
        """Looks the proof up in DNS (seconds at worst): outside the session's lock (see portal.state.acting)."""
        async with self:
            ip, org_id = self._ip(), self._org_id
        outcome = await staff_outside_lock(self, lambda s, a: editor.verify_sender(s, a, org_id, ip=ip))
        async with self:
            toast = await self._sender_shown(outcome, N_("Verified: your e-mails now come from your own address."))
        if toast is not None:
            yield toast

    def _email_key(self) -> str:
        return editor.email_key(self.email_template, self.email_language)

    @rx.event
    def choose_email(self, template: str) -> None:
        self.email_template = template
        self.email_parts = dict(self.email_overrides.get(self._email_key(), {}))

    @rx.event
    def choose_email_language(self, language: str) -> None:
        self.email_language = "" if language == ALL_LANGUAGES else language
        self.email_parts = dict(self.email_overrides.get(self._email_key(), {}))

    @rx.event
    def set_email_part(self, part: str, value: str) -> None:
        self.email_parts = {**self.email_parts, part: value}

    @rx.event
    async def save_email(self):
        ip, org_id, template, parts = self._ip(), self._org_id, self.email_template, dict(self.email_parts)
        language, saved_as = self.email_language, self._email_key()
        outcome = await self._attempt(
            lambda s, a: editor.save_email_template(s, a, org_id, template, parts, language=language, ip=ip)
        )
        self.field_errors = {} if outcome.refused else {f"email_{k}": v for k, v in outcome.errors.items()}
        if outcome.ok:
            self.email_overrides = {**self.email_overrides, saved_as: {k: v for k, v in parts.items() if v.strip()}}
            yield await notice(self, N_("E-mail template saved."))

    @rx.event
    def set_word(self, name: str, value: str) -> None:
        """The words form's fields: which language, which built-in text, and the seller's own."""
        if name == "language":
            self.word_language = value
        elif name == "text":
            self.word_text = value
            self.word_replacement = self.words.get(self.word_language, {}).get(value, self.word_replacement)
        elif name == "replacement":
            self.word_replacement = value

    @rx.var
    def word_rows(self) -> list[dict[str, str]]:
        """The seller's own texts in the chosen language, as the list under the form shows them."""
        own = self.words.get(self.word_language, {})
        return [{"text": text, "replacement": own[text]} for text in sorted(own)]

    async def _save_word(self, text: str, replacement: str):
        ip, org_id, language = self._ip(), self._org_id, self.word_language
        outcome = await self._attempt(
            lambda s, a: seller_words.save_word(s, a, org_id, language, text, replacement, ip=ip)
        )
        self.field_errors = {} if outcome.refused else {f"word_{k}": v for k, v in outcome.errors.items()}
        if outcome.ok and outcome.value is not None:
            self.words, self.word_text, self.word_replacement = outcome.value, "", ""
            return await notice(self, N_("Saved. Your portal shows it from the next page load."))
        return None

    @rx.event
    async def save_word(self):
        return await self._save_word(self.word_text, self.word_replacement)

    @rx.event
    async def remove_word(self, text: str):
        return await self._save_word(str(text), "")
