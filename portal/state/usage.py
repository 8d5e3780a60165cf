"""The usage table's paging and the CSV download; charts and totals come with the dashboard view."""

from __future__ import annotations

import reflex as rx

from portal.state.auth import AuthState
from portal.state.dashboard import DashboardState
from portal.state.forms import errors_from
from services.customer.usage_view import usage_csv, usage_page
from services.db import session_scope


class UsageState(rx.State):
    records: list[dict[str, str]] = []
    page: int = 1
    has_more: bool = False
    error: str = ""

    async def _ids(self) -> tuple[int, int]:
        auth = await self.get_state(AuthState)
        dashboard = await self.get_state(DashboardState)
        user_id = auth._user_id if auth._refresh() else 0
        return user_id, int(dashboard.view.get("instance_id") or 0)  # type: ignore[call-overload]

    @rx.event
    async def load(self, page: int = 1) -> None:
        user_id, instance_id = await self._ids()
        if not user_id or not instance_id:
            self.records, self.has_more = [], False
            return
        try:
            with session_scope() as session:
                self.records, self.has_more = usage_page(session, user_id, instance_id, page)
            self.page, self.error = max(1, page), ""
        except Exception as exc:  # noqa: BLE001
            self.error = errors_from(exc).get("", "")

    @rx.event
    async def turn(self, delta: int) -> None:
        await self.load(max(1, self.page + delta))

    @rx.event
    async def export_csv(self):  # type: ignore[no-untyped-def]
        user_id, instance_id = await self._ids()
        try:
            with session_scope() as session:
                name, text = usage_csv(session, user_id, instance_id)
        except Exception as exc:  # noqa: BLE001
            self.error = errors_from(exc).get("", "")
            return
        yield rx.download(data=text, filename=name)
