"""Your data on /account: the export (a ZIP of everything kept about the signed-in person) and deleting the account.

Both act on the signed-in person only (the session decides who, never the page), and neither while staff
impersonate them: the export is personal data, the deletion their own decision.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.state.acting import as_account_owner, client_ip
from portal.state.auth import AuthState
from portal.state.forms import attempt, notice
from services.i18n import N_
from services.privacy.data_export import export_zip
from services.privacy.erasure import delete_account

FORM_FIELDS = {"password": "delete_password", "code": "delete_code"}


class PrivacyState(rx.State):
    errors: dict[str, str] = {}
    exporting: bool = False

    @rx.event
    async def export(self):
        self.exporting = True
        yield
        outcome = await attempt(as_account_owner(self, lambda s, me: export_zip(s, me.id)), self)
        self.exporting, self.errors = False, outcome.errors
        if outcome.value is not None:
            yield rx.download(data=outcome.value, filename="my-data.zip", mime_type="application/zip")

    @rx.event
    async def delete(self, form: dict[str, Any]):
        ip = client_ip(self)
        password, code = str(form.get("delete_password", ""))[:1000], str(form.get("delete_code", ""))[:64]
        if str(form.get("delete_confirm", "")).lower() not in ("on", "true"):  # a form sends "on", Reflex may send true
            self.errors = {"delete_confirm": "Tick the box to confirm that this cannot be undone."}
            return
        outcome = await attempt(
            as_account_owner(self, lambda s, me: delete_account(s, me.id, password, code, ip)), self
        )
        self.errors = {FORM_FIELDS.get(name, name): message for name, message in outcome.errors.items()}
        if outcome.ok:
            yield await notice(self, N_("Your account is deleted."), "info")
            yield AuthState.sign_out  # this browser's cookie goes too; every session already ended
