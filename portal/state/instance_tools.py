"""The instance card's on-demand parts: recent logs, the initial login (once), the usage API token (once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_customer, client_ip, customer_outside_lock
from portal.state.dashboard import DashboardState
from portal.state.forms import Outcome, attempt
from services.customer import instance_control as control
from services.tenancy.scope import Customer


class InstanceToolsState(rx.State):
    logs: str = ""
    logs_open: bool = False
    credentials: dict[str, str] = {}
    credentials_gone: bool = False
    new_token: str = ""
    new_gateway_key: str = ""
    new_admin_password: str = ""
    error: str = ""

    async def _call(self, work: Callable[[Session, Customer | None, int], Any]) -> Any:
        """Run `work(session, who, instance_id)` on the instance the dashboard shows (checked by the service)."""
        instance_id = await self._instance_id()
        return self._shown(await attempt(as_customer(self, lambda s, who: work(s, who, instance_id)), self))

    async def _instance_id(self) -> int:
        return int((await self.get_state(DashboardState)).view.get("instance_id") or 0)

    def _shown(self, outcome: Outcome[Any]) -> Any:
        self.error = "" if outcome.ok else outcome.errors.get("", "That did not work.")
        return outcome.value

    @rx.event(background=True)
    async def show_logs(self) -> None:
        """Asks the instance's Docker engine or Coolify: outside the session's lock (see portal.state.acting)."""
        async with self:
            instance_id = await self._instance_id()
        outcome = await customer_outside_lock(self, lambda s, who: control.instance_logs(s, who, instance_id))
        async with self:
            self.logs, self.logs_open = self._shown(outcome) or "", True

    @rx.event
    def hide_logs(self) -> None:
        self.logs_open = False

    @rx.event
    async def reveal_credentials(self) -> None:
        shown = await self._call(control.reveal_credentials)
        self.credentials, self.credentials_gone = shown or {}, shown is None and not self.error

    @rx.event
    async def rotate_token(self) -> None:
        ip = client_ip(self)
        self.new_token = await self._call(lambda s, who, i: control.rotate_usage_token(s, who, i, ip)) or ""

    @rx.event
    async def reset_admin_password(self) -> None:
        ip = client_ip(self)
        self.new_admin_password = await self._call(lambda s, who, i: control.reset_admin_password(s, who, i, ip)) or ""

    @rx.event
    async def rotate_gateway_key(self) -> None:
        ip = client_ip(self)
        self.new_gateway_key = await self._call(lambda s, who, i: control.rotate_ai_gateway_key(s, who, i, ip)) or ""
