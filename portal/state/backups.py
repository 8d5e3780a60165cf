"""/backups: the instance's backups; take one now, download one, restore one. Handlers name a backup by id as any
client could; services.customer.backups checks it belongs to the caller's own instance and role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_customer, client_ip
from portal.state.forms import attempt, language_of, notice
from services.customer import backups
from services.i18n import N_
from services.tenancy.scope import Customer

EMPTY = backups.BackupsPage().to_dict()


class BackupsState(rx.State):
    view: dict[str, Any] = EMPTY
    error: str = ""

    async def _do(self, work: Callable[[Session, Customer | None, int], Any]) -> tuple[bool, Any]:
        instance_id = int(self.view.get("instance_id") or 0)
        outcome = await attempt(as_customer(self, lambda s, who: work(s, who, instance_id)), self)
        self.error = "" if outcome.ok else outcome.errors.get("", "That did not work.")
        return outcome.ok, outcome.value

    @rx.event
    async def load(self) -> None:
        language = await language_of(self)
        outcome = await attempt(
            as_customer(self, lambda s, who: backups.backups_page(s, who, language).to_dict()), self
        )
        self.view = outcome.value or EMPTY
        self.error = "" if outcome.ok else outcome.errors.get("", "That did not work.")

    @rx.event
    async def back_up_now(self):
        ip = client_ip(self)
        done, _ = await self._do(lambda s, who, i: backups.back_up_now(s, who, i, ip))
        if done:
            yield await notice(self, N_("Backup started. It appears below when it is finished."))
        yield BackupsState.load

    @rx.event
    async def restore(self, backup_id: str):
        ip = client_ip(self)
        done, _ = await self._do(lambda s, who, i: backups.restore_backup(s, who, i, str(backup_id)[:32], ip))
        if done:
            yield await notice(self, N_("Restore started: your current data is backed up first."))
        yield BackupsState.load

    @rx.event
    async def download(self, backup_id: str):
        done, link = await self._do(lambda s, who, i: backups.download_link(s, who, i, str(backup_id)[:32]))
        if done and link:
            return rx.download(url=link, filename="backup.tar.zst")  # the link is good for five minutes
        return None
