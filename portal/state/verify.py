"""The page the verification e-mail links to."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import client_ip, in_session
from portal.state.forms import attempt
from services.accounts import service


class VerifyState(rx.State):
    status: str = "checking"  # checking | verified | failed
    message: str = ""
    resend_errors: dict[str, str] = {}
    resent: bool = False

    @rx.event
    async def verify(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        outcome = await attempt(in_session(lambda s: service.verify_email(s, token).email), self)
        if outcome.value is None:
            self.status, self.message = "failed", next(iter(outcome.errors.values()))
            return
        self.status, self.message = "verified", f"Thank you, {outcome.value} is confirmed. You can sign in now."

    @rx.event
    async def resend(self, form: dict[str, str]) -> None:
        ip = client_ip(self)
        outcome = await attempt(
            in_session(lambda s: service.resend_verification(s, form.get("email", ""), ip=ip)), self
        )
        self.resend_errors, self.resent = outcome.errors, outcome.ok
