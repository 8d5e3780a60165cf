"""Two-factor sign-in set-up and the list of signed-in browsers on the account page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_account_owner, client_ip
from portal.state.forms import Outcome, attempt, notice
from services.accounts import two_factor
from services.accounts.sessions import CurrentUser, list_sessions, revoke_all_sessions
from services.i18n import N_
from services.i18n.message import say
from services.models import User

T = TypeVar("T")


class SecurityState(rx.State):
    two_factor_on: bool = False
    recovery_left: int = 0
    enrol_secret: str = ""
    enrol_qr: str = ""
    recovery_codes: list[str] = []
    sessions: list[dict[str, Any]] = []
    errors: dict[str, str] = {}

    async def _own(self, work: Callable[[Session, CurrentUser], T], *, changes: bool = True) -> Outcome[T]:
        outcome = await attempt(as_account_owner(self, work, changes=changes), self)
        self.errors = outcome.errors
        return outcome

    def _read(self, session: Session, me: CurrentUser) -> None:
        user = session.get(User, me.id)
        self.two_factor_on = bool(user and two_factor.is_enabled(user))
        self.recovery_left = two_factor.recovery_codes_left(session, me.id)
        self.sessions = list_sessions(session, me.id, me.session_hash)

    @rx.event
    async def load(self) -> None:
        self.enrol_secret, self.enrol_qr, self.recovery_codes = "", "", []
        await self._own(self._read, changes=False)

    @rx.event
    async def begin_two_factor(self) -> None:
        enrolment = (await self._own(lambda s, me: two_factor.begin(s, me.id))).value
        if enrolment is not None:
            self.enrol_secret, self.enrol_qr = enrolment.secret, enrolment.qr_svg_data_uri

    @rx.event
    async def confirm_two_factor(self, form: dict[str, str]):
        ip = client_ip(self)
        codes = (await self._own(lambda s, me: two_factor.confirm(s, me.id, form.get("code", ""), ip))).value
        if codes:
            self.recovery_codes, self.enrol_secret, self.enrol_qr = codes, "", ""
            await self._own(self._read, changes=False)
            yield await notice(self, N_("Two-factor sign-in is on."))

    @rx.event
    async def disable_two_factor(self, form: dict[str, str]):
        ip = client_ip(self)
        if (await self._own(lambda s, me: two_factor.disable(s, me.id, form.get("password", ""), ip))).ok:
            self.recovery_codes = []
            await self._own(self._read, changes=False)
            yield await notice(self, N_("Two-factor sign-in is off."), "info")

    @rx.event
    async def sign_out_elsewhere(self):
        count = (await self._own(lambda s, me: revoke_all_sessions(s, me.id, except_hash=me.session_hash))).value
        if count is not None:
            await self._own(self._read, changes=False)
            yield await notice(self, say("Other sessions signed out: {count}.", count=count))
