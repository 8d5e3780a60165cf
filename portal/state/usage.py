"""The usage table's paging and the CSV download; charts and totals come with the dashboard view."""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from portal.state.acting import as_customer
from portal.state.auth import set_changed
from portal.state.dashboard import DashboardState
from portal.state.forms import attempt
from services.customer.usage_view import usage_csv, usage_page


class UsageState(rx.State):
    records: list[dict[str, str]] = []
    page: int = 1
    has_more: bool = False
    error: str = ""
    as_of: str = ""  # when the records were last read; the rows themselves are sent only on change

    async def _instance_id(self) -> int:
        return int((await self.get_state(DashboardState)).view.get("instance_id") or 0)

    @rx.event
    async def load(self, page: int = 1) -> None:
        await self._load(page)

    async def _load(self, page: int) -> None:
        instance_id = await self._instance_id()
        if not instance_id:
            self.records, self.has_more = [], False
            return
        outcome = await attempt(as_customer(self, lambda s, who: usage_page(s, who, instance_id, page)), self)
        records, has_more = outcome.value or ([], False)
        page, error = (max(1, page), "") if outcome.ok else (self.page, outcome.errors.get("", ""))
        set_changed(self, records=records, has_more=has_more, page=page, error=error)
        self.as_of = f"{datetime.now(UTC):%H:%M:%S} UTC"

    @rx.event
    async def turn(self, delta: int) -> None:
        await self._load(max(1, self.page + delta))

    @rx.event
    async def export_csv(self):
        instance_id = await self._instance_id()
        outcome = await attempt(as_customer(self, lambda s, who: usage_csv(s, who, instance_id)), self)
        self.error = outcome.errors.get("", "")
        if outcome.value is not None:
            name, text = outcome.value
            yield rx.download(data=text, filename=name)
