"""The usage table's paging and the CSV download; charts and totals come with the dashboard view."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import as_customer
from portal.state.dashboard import DashboardState
from portal.state.forms import errors_from
from services.customer.usage_view import usage_csv, usage_page


class UsageState(rx.State):
    records: list[dict[str, str]] = []
    page: int = 1
    has_more: bool = False
    error: str = ""

    async def _instance_id(self) -> int:
        return int((await self.get_state(DashboardState)).view.get("instance_id") or 0)

    @rx.event
    async def load(self, page: int = 1) -> None:
        instance_id = await self._instance_id()
        if not instance_id:
            self.records, self.has_more = [], False
            return
        try:
            self.records, self.has_more = await as_customer(self, lambda s, who: usage_page(s, who, instance_id, page))
            self.page, self.error = max(1, page), ""
        except Exception as exc:  # noqa: BLE001
            self.records, self.has_more = [], False
            self.error = errors_from(exc).get("", "")

    @rx.event
    async def turn(self, delta: int) -> None:
        await self.load(max(1, self.page + delta))

    @rx.event
    async def export_csv(self):
        instance_id = await self._instance_id()
        try:
            name, text = await as_customer(self, lambda s, who: usage_csv(s, who, instance_id))
        except Exception as exc:  # noqa: BLE001
            self.error = errors_from(exc).get("", "")
            return
        yield rx.download(data=text, filename=name)
