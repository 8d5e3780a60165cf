"""The dashboard's history section: the instance's 30-day uptime strip and its latest action's timeline.

Read when the dashboard opens and when an action the page follows ends, not on every refresh (a day's uptime
changes once a minute at most)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.state.acting import as_customer
from portal.state.dashboard import DashboardState
from portal.state.forms import attempt
from portal.state.language import LanguageState
from services.customer.history import InstanceHistory, instance_history

EMPTY = InstanceHistory().to_dict()  # every key the page reads is always there


class HistoryState(rx.State):
    history: dict[str, Any] = EMPTY
    error: str = ""

    @rx.event
    async def load(self) -> None:
        instance_id = int((await self.get_state(DashboardState)).view.get("instance_id") or 0)
        if not instance_id:
            self.history = EMPTY
            return
        language = (await self.get_state(LanguageState)).language
        outcome = await attempt(
            as_customer(self, lambda s, who: instance_history(s, who, instance_id, language).to_dict()),
            self,
        )
        self.history, self.error = outcome.value or EMPTY, outcome.errors.get("", "")
