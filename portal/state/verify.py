"""The page the verification e-mail links to."""

from __future__ import annotations

import reflex as rx

from portal.state.forms import errors_from
from services.accounts import service
from services.db import session_scope


class VerifyState(rx.State):
    status: str = "checking"  # checking | verified | failed
    message: str = ""
    resend_errors: dict[str, str] = {}
    resent: bool = False

    @rx.event
    def verify(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        try:
            with session_scope() as session:
                user = service.verify_email(session, token)
        except Exception as exc:  # noqa: BLE001
            self.status, self.message = "failed", next(iter(errors_from(exc).values()))
            return
        self.status, self.message = "verified", f"Thank you, {user.email} is confirmed. You can sign in now."

    @rx.event
    def resend(self, form: dict[str, str]) -> None:
        try:
            with session_scope() as session:
                service.resend_verification(session, form.get("email", ""), ip=self.router.session.client_ip)
        except Exception as exc:  # noqa: BLE001
            self.resend_errors = errors_from(exc)
            return
        self.resend_errors, self.resent = {}, True
