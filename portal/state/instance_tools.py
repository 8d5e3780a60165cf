"""The instance card's on-demand parts: recent logs, the initial login (once), the usage API token (once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.auth import AuthState
from portal.state.dashboard import DashboardState
from portal.state.forms import errors_from
from services.customer import instance_control as control
from services.db import session_scope


class InstanceToolsState(rx.State):
    logs: str = ""
    logs_open: bool = False
    credentials: dict[str, str] = {}
    credentials_gone: bool = False
    new_token: str = ""
    error: str = ""

    async def _call(self, work: Callable[[Session, int, int], Any]) -> Any:
        """Run `work(session, user_id, instance_id)` for the signed-in user's own instance card."""
        auth = await self.get_state(AuthState)
        dashboard = await self.get_state(DashboardState)
        if not auth._refresh():
            self.error = "Please sign in again."
            return None
        try:
            with session_scope() as session:
                result = work(session, auth._user_id, int(dashboard.view.get("instance_id") or 0))  # type: ignore[call-overload]
        except Exception as exc:  # noqa: BLE001
            self.error = errors_from(exc).get("", "That did not work.")
            return None
        self.error = ""
        return result

    @rx.event
    async def show_logs(self) -> None:
        self.logs = await self._call(lambda s, u, i: control.instance_logs(s, u, i)) or ""
        self.logs_open = True

    @rx.event
    def hide_logs(self) -> None:
        self.logs_open = False

    @rx.event
    async def reveal_credentials(self) -> None:
        shown = await self._call(control.reveal_credentials)
        self.credentials, self.credentials_gone = shown or {}, shown is None and not self.error

    @rx.event
    async def rotate_token(self) -> None:
        ip = self.router.session.client_ip
        self.new_token = await self._call(lambda s, u, i: control.rotate_usage_token(s, u, i, ip)) or ""
