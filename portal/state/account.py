"""The signed-in user's account page: change password."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import as_account_owner, client_ip
from portal.state.forms import attempt, notice
from services.accounts import service
from services.i18n import N_


class AccountState(rx.State):
    errors: dict[str, str] = {}
    submitting: bool = False
    form_key: int = 0  # bumped to clear the form after success

    @rx.event
    async def change_password(self, form: dict[str, str]):
        if form.get("new_password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        self.submitting = True
        yield
        ip = client_ip(self)
        outcome = await attempt(
            as_account_owner(
                self,
                lambda s, me: service.change_password(
                    s,
                    me.id,
                    form.get("current_password", ""),
                    form.get("new_password", ""),
                    keep_session_hash=me.session_hash,
                    ip=ip,
                ),
            ),
            self,
        )
        self.errors, self.submitting = outcome.errors, False
        if outcome.ok:
            self.form_key += 1
            yield await notice(self, N_("Password changed. Other devices were signed out."))
