"""Password reset: ask for a link, then choose a new password with it."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import client_ip, in_session
from portal.state.forms import attempt, notice
from services.accounts import service
from services.i18n import N_


class ResetState(rx.State):
    errors: dict[str, str] = {}
    requested: bool = False
    submitting: bool = False

    @rx.event
    async def request_link(self, form: dict[str, str]):
        self.submitting = True
        yield
        ip = client_ip(self)
        outcome = await attempt(
            in_session(lambda s: service.request_password_reset(s, form.get("email", ""), ip=ip)), self
        )
        self.errors, self.requested, self.submitting = outcome.errors, outcome.ok, False

    @rx.event
    async def choose_password(self, form: dict[str, str]):
        if form.get("password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        self.submitting = True
        yield
        token = self.router.url.query_parameters.get("token", "")
        outcome = await attempt(in_session(lambda s: service.reset_password(s, token, form.get("password", ""))), self)
        self.errors, self.submitting = outcome.errors, False
        if outcome.ok:
            yield [
                await notice(self, N_("Your password was changed. Please sign in.")),
                rx.redirect("/login"),
            ]
