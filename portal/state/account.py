"""The signed-in user's account page: change password."""

from __future__ import annotations

import reflex as rx

from portal.state.auth import NOT_WHILE_IMPERSONATING, AuthState
from portal.state.forms import errors_from
from services.accounts import service
from services.db import session_scope


class AccountState(rx.State):
    errors: dict[str, str] = {}
    submitting: bool = False
    form_key: int = 0  # bumped to clear the form after success

    @rx.event
    async def change_password(self, form: dict[str, str]):
        if form.get("new_password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        auth = await self.get_state(AuthState)
        if not auth._refresh():
            yield rx.redirect("/login?next=/account")
            return
        if auth.impersonator:
            self.errors = {"": NOT_WHILE_IMPERSONATING}
            return
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                service.change_password(
                    session,
                    auth._user_id,
                    form.get("current_password", ""),
                    form.get("new_password", ""),
                    keep_session_hash=auth._session_hash,
                    ip=self.router.session.client_ip,
                )
        except Exception as exc:  # noqa: BLE001
            self.errors, self.submitting = errors_from(exc), False
            return
        self.errors, self.submitting = {}, False
        self.form_key += 1
        yield rx.toast.success("Password changed. Other devices were signed out.")
