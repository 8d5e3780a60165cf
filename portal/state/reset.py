"""Password reset: ask for a link, then choose a new password with it."""

from __future__ import annotations

import reflex as rx

from portal.state.forms import errors_from
from services.accounts import service
from services.db import session_scope


class ResetState(rx.State):
    errors: dict[str, str] = {}
    requested: bool = False
    submitting: bool = False

    @rx.event
    def request_link(self, form: dict[str, str]):
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                service.request_password_reset(session, form.get("email", ""), ip=self.router.session.client_ip)
        except Exception as exc:  # noqa: BLE001
            self.errors, self.submitting = errors_from(exc), False
            return
        self.errors, self.requested, self.submitting = {}, True, False

    @rx.event
    def choose_password(self, form: dict[str, str]):
        if form.get("password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        self.submitting = True
        yield
        token = self.router.url.query_parameters.get("token", "")
        try:
            with session_scope() as session:
                service.reset_password(session, token, form.get("password", ""))
        except Exception as exc:  # noqa: BLE001
            self.errors, self.submitting = errors_from(exc), False
            return
        self.errors, self.submitting = {}, False
        yield [rx.toast.success("Your password was changed. Please sign in."), rx.redirect("/login")]
