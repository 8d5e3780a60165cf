"""The customer dashboard. Handlers resolve who is acting (again, every time) and call services."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_customer, client_ip, customer_outside_lock, request_host
from portal.state.forms import attempt, language_of, notice
from portal.state.language import LanguageState
from services.billing.self_service import billing_portal_url, change_plan, retry_payment
from services.customer.instance_control import control_instance
from services.dashboard import load_dashboard
from services.i18n import N_
from services.i18n.message import localise, say
from services.provisioning.wording import ACTION_LABELS
from services.tenancy.scope import Customer

REFRESH_SECONDS = 2.0


class DashboardState(rx.State):
    view: dict[str, Any] = {}
    checked_at: str = ""  # when the view was last read (shown as "as of"); the view itself is sent only on change
    errors: dict[str, str] = {}
    target_plan: str = ""
    following: bool = False

    async def _read(self) -> bool:
        """Load the view; False (and an empty view) once the session has ended."""
        language = (await self.get_state(LanguageState)).language
        try:
            view = (await as_customer(self, lambda s, who: load_dashboard(s, who, language))).to_dict()
        except PermissionError:
            self.view = {}
            return False
        if view != self.view:  # an unchanged view is not sent again (most refreshes change nothing)
            self.view = view
        self.checked_at = f"{datetime.now(UTC):%H:%M:%S} UTC"
        return True

    @rx.event
    async def load(self):
        if await self._read() and self.view.get("busy") and not self.following:
            yield DashboardState.follow

    @rx.event(background=True)
    async def follow(self):
        """While an action runs, refresh so the customer sees each step; a session that ended stops at once."""
        async with self:
            if self.following:
                return
            self.following = True
        try:
            for _ in range(600):
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    if not await self._read():
                        return
                    if not self.view.get("busy") and self.view.get("instance_status") not in (
                        "awaiting_payment",
                        "pending",
                    ):
                        return
        finally:
            async with self:
                self.following = False

    async def _act(self, work: Callable[[Session, Customer | None], Any]) -> Any:
        outcome = await attempt(as_customer(self, work), self)
        self.errors = outcome.errors
        return outcome.value

    async def _ask_stripe(self, work: Callable[[Session, Customer | None, str], Any]) -> Any:
        """For background events that reach Stripe (seconds at worst): `work(session, who, host)` runs outside
        the session's lock (see portal.state.acting); its refusals are shown under the lock again."""
        async with self:
            host = request_host(self)
        outcome = await customer_outside_lock(self, lambda s, who: work(s, who, host))
        async with self:
            self.errors = outcome.errors
        return outcome.value

    @rx.event
    async def control(self, action: str):
        """Restart, stop or start (after the confirmation in the page); progress then follows by itself."""
        instance_id, ip = int(self.view.get("instance_id") or 0), client_ip(self)
        if await self._act(lambda s, who: control_instance(s, who, instance_id, action, ip)):
            yield await notice(self, say("{action} requested.", action=say(ACTION_LABELS.get(action, action))), "info")
            yield DashboardState.load

    @rx.event
    def set_target_plan(self, slug: str) -> None:
        self.target_plan = slug

    @rx.event(background=True)
    async def manage_billing(self):
        url = await self._ask_stripe(billing_portal_url)
        if isinstance(url, str):
            yield rx.redirect(url)

    @rx.event(background=True)
    async def pay_now(self):
        url = await self._ask_stripe(retry_payment)
        if isinstance(url, str):
            yield rx.redirect(url)

    @rx.event(background=True)
    async def apply_plan_change(self):
        async with self:
            target = self.target_plan
            if not target:
                self.errors = {"plan": str(localise(N_("Choose a plan first."), await language_of(self)))}
                return
        result = await self._ask_stripe(lambda s, who, host: change_plan(s, who, target, host) or "")
        if isinstance(result, str) and result:
            yield rx.redirect(result)
        elif result == "":
            async with self:
                saved = await notice(self, N_("Plan change saved: the plan card says when it takes effect."))
            yield saved
            yield DashboardState.load
