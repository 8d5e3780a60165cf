"""Changing the signed-in person's e-mail address (the form on /account), and the two pages its e-mails link to:
confirming the new address, and undoing the change from the old one."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_account_owner, client_ip, in_session
from portal.state.forms import attempt
from services.accounts import email_change
from services.models import User

FORM_FIELDS = {"email": "new_email", "password": "email_password"}


class EmailChangeState(rx.State):
    errors: dict[str, str] = {}
    sent_to: str = ""
    form_key: int = 0

    @rx.event
    async def request(self, form: dict[str, str]) -> None:
        ip = client_ip(self)
        outcome = await attempt(
            as_account_owner(
                self,
                lambda s, me: email_change.request_change(
                    s, me.id, form.get("new_email", ""), form.get("email_password", ""), ip=ip
                ),
            ),
            self,
        )
        # the service names its fields "email" and "password"; the form's are named apart from the page's others
        self.errors = {FORM_FIELDS.get(name, name): message for name, message in outcome.errors.items()}
        self.sent_to = outcome.value or ""
        if outcome.ok:
            self.form_key += 1


class EmailLinkState(rx.State):
    status: str = "checking"  # checking | done | failed
    message: str = ""

    async def _follow(self, work: Callable[[Session, str], User], done: str) -> None:
        token = self.router.url.query_parameters.get("token", "")
        outcome = await attempt(in_session(lambda s: work(s, token).email), self)
        if outcome.value is None:
            self.status, self.message = "failed", next(iter(outcome.errors.values()), "That did not work.")
            return
        self.status, self.message = "done", done.format(outcome.value)

    @rx.event
    async def confirm(self) -> None:
        await self._follow(email_change.confirm_change, "Your account's e-mail address is now {}.")

    @rx.event
    async def undo(self) -> None:
        await self._follow(
            email_change.undo_change,
            "Your account is back on {}, and every session was signed out. Sign in, and change your password if "
            "someone else may know it.",
        )
