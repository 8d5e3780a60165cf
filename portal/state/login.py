"""Sign-in form."""

from __future__ import annotations

import reflex as rx

from portal.state.auth import AuthState
from portal.state.forms import errors_from
from services.accounts import login as login_flow
from services.db import session_scope


class LoginState(rx.State):
    errors: dict[str, str] = {}
    submitting: bool = False
    needs_code: bool = False  # the account has two-factor sign-in: the form shows the code field

    @rx.event
    async def submit(self, form: dict[str, str]):
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                token = login_flow.login(
                    session,
                    identifier=form.get("identifier", ""),
                    password=form.get("password", ""),
                    code=form.get("code") or "",
                    ip=self.router.session.client_ip,
                    user_agent=self.router.headers.user_agent,
                )
        except Exception as exc:  # noqa: BLE001
            self.errors, self.submitting = errors_from(exc), False
            self.needs_code = self.needs_code or "code" in self.errors
            return
        self.errors, self.submitting, self.needs_code = {}, False, False
        auth = await self.get_state(AuthState)
        auth._start_session(token)
        yield rx.redirect(login_flow.next_path(self.router.url.query_parameters.get("next")))
