"""Sign-in form."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import client_ip, in_session
from portal.state.auth import AuthState
from portal.state.forms import attempt
from services.accounts import login as login_flow


class LoginState(rx.State):
    errors: dict[str, str] = {}
    submitting: bool = False
    needs_code: bool = False  # the account has two-factor sign-in: the form shows the code field

    @rx.event
    async def submit(self, form: dict[str, str]):
        self.submitting = True
        yield
        ip, agent = client_ip(self), self.router.headers.user_agent
        outcome = await attempt(
            in_session(
                lambda s: login_flow.login(
                    s,
                    identifier=form.get("identifier", ""),
                    password=form.get("password", ""),
                    code=form.get("code") or "",
                    ip=ip,
                    user_agent=agent,
                )
            ),
            self,
        )
        self.errors, self.submitting = outcome.errors, False
        self.needs_code = bool(self.needs_code or "code" in self.errors) and not outcome.ok
        if outcome.value is None:
            return
        (await self.get_state(AuthState))._start_session(outcome.value)
        yield rx.redirect(login_flow.next_path(self.router.url.query_parameters.get("next")))
