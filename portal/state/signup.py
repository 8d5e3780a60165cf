"""Sign-up form: live username availability, then account creation and the verification e-mail."""

from __future__ import annotations

import reflex as rx

from portal.state.forms import errors_from
from services.accounts import service
from services.accounts.usernames import username_problem
from services.db import session_scope


class SignupState(rx.State):
    errors: dict[str, str] = {}
    username: str = ""
    username_available: bool = False
    submitting: bool = False
    sent_to: str = ""

    @rx.event
    def set_username(self, value: str) -> None:
        self.username = value.strip().lower()
        self.errors = {k: v for k, v in self.errors.items() if k != "username"}
        self.username_available = False
        if not self.username:
            return
        with session_scope() as session:
            problem = username_problem(session, self.username)
        if problem:
            self.errors = {**self.errors, "username": problem}
        else:
            self.username_available = True

    @rx.event
    def submit(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                result = service.signup(
                    session, email=form.get("email", ""), username=form.get("username", ""),
                    password=form.get("password", ""), ip=self.router.session.client_ip,
                )
        except Exception as exc:  # noqa: BLE001 - errors_from() sorts expected from unexpected
            self.errors = errors_from(exc)
            self.submitting = False
            return
        self.errors, self.submitting, self.sent_to = {}, False, result.email
        yield rx.redirect("/signup/check-email")
