"""The /developers page: API tokens and webhook endpoints of the signed-in person's own organization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_account_owner, client_ip
from portal.state.forms import attempt, notice
from services.accounts.sessions import CurrentUser
from services.api import console
from services.i18n import N_


class DevelopersState(rx.State):
    organization: str = ""
    scopes: list[str] = []
    event_types: list[str] = []
    tokens: list[dict[str, str]] = []
    endpoints: list[dict[str, Any]] = []
    deliveries: list[dict[str, str]] = []
    deliveries_of: str = ""  # the endpoint whose log is open
    new_token: str = ""  # shown once
    new_secret: str = ""  # shown once
    errors: dict[str, str] = {}

    async def _act(self, work: Callable[[Session, CurrentUser], Any], *, changes: bool = True) -> Any:
        outcome = await attempt(as_account_owner(self, work, changes=changes), self)
        self.errors = outcome.errors
        return outcome.value

    async def _reload(self) -> None:
        page = await self._act(lambda s, me: console.overview(s, me.id, me.impersonator_id is not None), changes=False)
        if page:
            self.organization, self.scopes, self.event_types = page["organization"], page["scopes"], page["event_types"]
            self.tokens, self.endpoints = page["tokens"], page["endpoints"]

    @rx.event
    async def load(self) -> None:
        self.new_token, self.new_secret, self.deliveries, self.deliveries_of = "", "", [], ""
        await self._reload()

    @rx.event
    async def create_token(self, form: dict[str, Any]):
        ip = client_ip(self)
        chosen = [s for s in self.scopes if form.get(f"scope-{s}")]
        name, days = str(form.get("name") or ""), str(form.get("expires_days") or "")
        issued = await self._act(lambda s, me: console.create_token(s, me.id, name, chosen, days, ip))
        if issued is not None:
            self.new_token = issued.token
            await self._reload()
            yield await notice(self, N_("Token created. Copy it now: it is not shown again."))

    @rx.event
    async def revoke_token(self, token_id: str):
        ip = client_ip(self)
        await self._act(lambda s, me: console.revoke_token(s, me.id, int(token_id), ip))
        await self._reload()

    @rx.event
    async def create_endpoint(self, form: dict[str, Any]):
        ip = client_ip(self)
        chosen = [t for t in self.event_types if form.get(f"event-{t}")]
        url = str(form.get("url") or "")
        secret = await self._act(lambda s, me: console.create_endpoint(s, me.id, url, chosen, ip))
        if secret:
            self.new_secret = secret
            await self._reload()
            yield await notice(
                self, N_("Endpoint added. Copy its signing secret now: it is not shown again."), "success"
            )

    @rx.event
    async def toggle_endpoint(self, endpoint_id: str, enabled: bool):
        ip = client_ip(self)
        await self._act(lambda s, me: console.set_enabled(s, me.id, int(endpoint_id), enabled, ip))
        await self._reload()

    @rx.event
    async def rotate_secret(self, endpoint_id: str):
        ip = client_ip(self)
        secret = await self._act(lambda s, me: console.rotate(s, me.id, int(endpoint_id), ip))
        if secret:
            self.new_secret = secret

    @rx.event
    async def delete_endpoint(self, endpoint_id: str):
        ip = client_ip(self)
        await self._act(lambda s, me: console.delete_endpoint(s, me.id, int(endpoint_id), ip))
        self.deliveries, self.deliveries_of = [], ""
        await self._reload()

    @rx.event
    async def show_deliveries(self, endpoint_id: str):
        rows = await self._act(lambda s, me: console.deliveries(s, me.id, int(endpoint_id)), changes=False)
        self.deliveries, self.deliveries_of = rows or [], endpoint_id if rows is not None else ""

    @rx.event
    async def replay(self, delivery_id: str):
        ip, endpoint_id = client_ip(self), int(self.deliveries_of or 0)
        await self._act(lambda s, me: console.replay(s, me.id, endpoint_id, int(delivery_id), ip))
        if not self.errors:
            yield await notice(self, N_("Delivering it again."), "info")
