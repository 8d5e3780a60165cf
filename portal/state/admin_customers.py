"""The console's overview, customers (search, filter, paging, detail), instance actions and audit log."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.state.acting import staff_outside_lock
from portal.state.admin import AdminState
from portal.state.auth import AuthState
from portal.state.forms import language_of, notice
from services.admin import customers, impersonation, instances, trends
from services.i18n.message import say
from services.provisioning.wording import ACTION_LABELS


class ConsoleState(AdminState):
    overview: dict[str, Any] = {}
    customers: list[dict[str, str]] = []
    customers_total: int = 0
    search: str = ""
    status_filter: str = ""
    plan_filter: str = ""
    selected: list[str] = []
    page: int = 1
    detail: dict[str, Any] = {}
    logs: str = ""
    health: dict[str, str] = {}
    audit: list[dict[str, Any]] = []
    audit_total: int = 0
    audit_action: str = ""
    charts: list[dict[str, Any]] = []  # the overview's trends (services/admin/trends.py)

    def _refresh(self, session, actor) -> None:
        self._reload(session, actor)
        if actor is None:
            return
        self.overview = customers.overview(session, actor)
        self.customers, self.customers_total = customers.list_customers(
            session, actor, search=self.search, status=self.status_filter, plan=self.plan_filter, page=self.page
        )
        self.audit, self.audit_total = customers.audit_log(session, actor, action=self.audit_action)

    @rx.event
    async def load_console(self) -> None:
        self.error = ""
        await self._run(self._refresh)
        language = await language_of(self)
        self.charts = await self._run(lambda s, a: trends.trends(s, a, language=language)) or []

    @rx.event
    async def download_trend(self, name: str):
        found = await self._run(lambda s, a: trends.trend_csv(s, a, name))
        if found is not None:
            yield rx.download(data=found[1], filename=found[0])

    @rx.event
    async def set_search(self, value: str) -> None:
        self.search, self.page = value, 1
        await self._run(self._refresh)

    @rx.event
    async def set_status_filter(self, value: str) -> None:
        self.status_filter, self.page = ("" if value == "all" else value), 1
        await self._run(self._refresh)

    @rx.event
    async def set_plan_filter(self, value: str) -> None:
        self.plan_filter, self.page = value.strip(), 1
        await self._run(self._refresh)

    @rx.event
    def toggle_selected(self, instance_id: str, checked: bool) -> None:
        self.selected = [i for i in self.selected if i != instance_id] + ([instance_id] if checked else [])

    @rx.event
    async def bulk(self, action: str):
        ip, ids = self._ip(), [int(i) for i in self.selected]
        result = await self._run(lambda s, a: instances.bulk_action(s, a, ids, action, ip=ip))
        if result is not None:
            self.selected = []
            yield await notice(
                self,
                f"{action.capitalize()}: {result.queued} queued"
                + (f", {len(result.refused)} refused ({'; '.join(result.refused)})" if result.refused else "."),
                "info",
            )
        await self._run(self._refresh)

    @rx.event
    async def turn(self, delta: int) -> None:
        self.page = max(1, self.page + delta)
        await self._run(self._refresh)

    @rx.event
    async def set_audit_action(self, value: str) -> None:
        self.audit_action = value
        await self._run(self._refresh)

    @rx.event
    async def open_customer(self, organization_id: str) -> None:
        self.detail = await self._run(lambda s, a: customers.customer_detail(s, a, int(organization_id))) or {}
        self.logs, self.health = "", {}

    @rx.event
    async def instance_action(self, instance_id: str, action: str):
        ip = self._ip()
        if await self._run(lambda s, a: instances.instance_action(s, a, int(instance_id), action, ip=ip)):
            yield await notice(self, say("{action} queued.", action=say(ACTION_LABELS.get(action, action))))
        await self._run(self._refresh)

    @rx.event(background=True)
    async def show_logs(self, instance_id: str) -> None:
        """Asks the instance's Docker engine or Coolify: outside the session's lock (see portal.state.acting)."""
        outcome = await staff_outside_lock(self, lambda s, a: instances.instance_logs(s, a, int(instance_id)))
        async with self:
            self.logs = self._shown(outcome) or ""

    @rx.event
    async def impersonate(self, user_id: str):
        ip, auth = self._ip(), await self.get_state(AuthState)
        admin_session = auth._session_hash
        token = await self._run(
            lambda s, a: impersonation.start(s, a, int(user_id), admin_session_hash=admin_session, ip=ip)
        )
        if token:
            auth._impersonate(token)
            yield rx.redirect("/dashboard")

    @rx.event(background=True)
    async def check_health(self, instance_id: str) -> None:
        """Probes the instance through its backend: outside the session's lock, like `show_logs`."""
        outcome = await staff_outside_lock(self, lambda s, a: instances.instance_health(s, a, int(instance_id)))
        async with self:
            self.health = self._shown(outcome) or {}
