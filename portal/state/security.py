"""Two-factor sign-in set-up and the list of signed-in browsers on the account page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.auth import NOT_WHILE_IMPERSONATING, AuthState
from portal.state.forms import errors_from
from services.accounts import two_factor
from services.accounts.sessions import list_sessions, revoke_all_sessions
from services.db import session_scope
from services.models import User


class SecurityState(rx.State):
    two_factor_on: bool = False
    recovery_left: int = 0
    enrol_secret: str = ""
    enrol_qr: str = ""
    recovery_codes: list[str] = []
    sessions: list[dict[str, Any]] = []
    errors: dict[str, str] = {}

    async def _with_user(self, work: Callable[[Session, int, str], Any], *, changes: bool = True) -> Any:
        auth = await self.get_state(AuthState)
        if not auth._refresh():
            self.errors = {"": "Please sign in again."}
            return None
        if auth.impersonator and changes:  # looking is fine, changing the account is not
            self.errors = {"": NOT_WHILE_IMPERSONATING}
            return None
        try:
            with session_scope() as session:
                result = work(session, auth._user_id, auth._session_hash)
        except Exception as exc:  # noqa: BLE001
            self.errors = errors_from(exc)
            return None
        self.errors = {}
        return result

    def _read(self, session: Session, user_id: int, session_hash: str) -> bool:
        user = session.get(User, user_id)
        self.two_factor_on = bool(user and two_factor.is_enabled(user))
        self.recovery_left = two_factor.recovery_codes_left(session, user_id)
        self.sessions = list_sessions(session, user_id, session_hash)
        return True

    @rx.event
    async def load(self) -> None:
        self.enrol_secret, self.enrol_qr, self.recovery_codes = "", "", []
        await self._with_user(self._read, changes=False)

    @rx.event
    async def begin_two_factor(self) -> None:
        enrolment = await self._with_user(lambda s, u, _h: two_factor.begin(s, u))
        if enrolment is not None:
            self.enrol_secret, self.enrol_qr = enrolment.secret, enrolment.qr_svg_data_uri

    @rx.event
    async def confirm_two_factor(self, form: dict[str, str]):
        ip = self.router.session.client_ip
        codes = await self._with_user(lambda s, u, _h: two_factor.confirm(s, u, form.get("code", ""), ip))
        if codes:
            self.recovery_codes, self.enrol_secret, self.enrol_qr = codes, "", ""
            await self._with_user(self._read, changes=False)
            yield rx.toast.success("Two-factor sign-in is on.")

    @rx.event
    async def disable_two_factor(self, form: dict[str, str]):
        ip = self.router.session.client_ip
        if await self._with_user(lambda s, u, _h: two_factor.disable(s, u, form.get("password", ""), ip) or True):
            self.recovery_codes = []
            await self._with_user(self._read, changes=False)
            yield rx.toast.info("Two-factor sign-in is off.")

    @rx.event
    async def sign_out_elsewhere(self):
        count = await self._with_user(lambda s, u, h: revoke_all_sessions(s, u, except_hash=h))
        if count is not None:
            await self._with_user(self._read, changes=False)
            yield rx.toast.success(f"Signed out of {count} other session{'s' if count != 1 else ''}.")
