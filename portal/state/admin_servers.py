"""The console's Servers tab (platform staff only; services/admin/servers.py checks it on every call)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.state.acting import as_staff
from portal.state.forms import attempt, notice
from services.admin import servers
from services.i18n.message import say


class ServersState(rx.State):
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    form_key: int = 0

    def _ip(self) -> str:
        return self.router.session.client_ip

    @rx.event
    async def load(self) -> None:
        outcome = await attempt(as_staff(self, servers.pool), self)
        self.rows = outcome.value or []
        self.errors = outcome.errors

    @rx.event
    async def add(self, form: dict[str, Any]):
        ip, values = self._ip(), {k: str(v)[:300] for k, v in form.items()}
        outcome = await attempt(as_staff(self, lambda s, a: servers.add(s, a, values, ip=ip)), self)
        self.errors = outcome.errors
        if outcome.ok:
            self.form_key += 1
            yield await notice(self, say("Server {name} added.", name=outcome.value))
        yield ServersState.load

    @rx.event
    async def change(self, name: str, what: str):
        ip, name, what = self._ip(), str(name)[:64], str(what)[:20]
        outcome = await attempt(as_staff(self, lambda s, a: servers.change(s, a, name, what, ip=ip)), self)
        self.errors = outcome.errors
        if outcome.ok:
            yield await notice(self, str(outcome.value))
        yield ServersState.load

    @rx.event
    async def recover(self, name: str):
        ip, name = self._ip(), str(name)[:64]
        outcome = await attempt(as_staff(self, lambda s, a: servers.move_from_backups(s, a, name, ip=ip)), self)
        self.errors = outcome.errors
        if outcome.ok:
            yield await notice(
                self,
                say("{count} instance(s) being started elsewhere from their last backup.", count=outcome.value),
                "success",
            )
        yield ServersState.load
