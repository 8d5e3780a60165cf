"""The customer dashboard. Handlers only resolve the user's own organization and call services."""

from __future__ import annotations

import asyncio

import reflex as rx

from portal.state.auth import AuthState
from portal.state.forms import errors_from
from services.billing.self_service import billing_portal_url, change_plan, retry_payment
from services.customer.instance_control import control_instance
from services.dashboard import load_dashboard
from services.db import session_scope
from services.models import User
from services.tenancy import customer_org_id

REFRESH_SECONDS = 2.0


class DashboardState(rx.State):
    view: dict[str, object] = {}
    errors: dict[str, str] = {}
    target_plan: str = ""
    following: bool = False

    async def _user_id(self) -> int:
        auth = await self.get_state(AuthState)
        return auth._user_id if auth._refresh() else 0

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if not user_id:
            return
        with session_scope() as session:
            self.view = load_dashboard(session, user_id).to_dict()
        if self.view.get("busy") and not self.following:
            yield DashboardState.follow

    @rx.event(background=True)
    async def follow(self):  # type: ignore[no-untyped-def]
        """While an action runs, refresh so the customer sees each step and the final state."""
        async with self:
            if self.following:
                return
            self.following = True
        try:
            for _ in range(600):
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    auth = await self.get_state(AuthState)
                    user_id = auth._user_id
                    if not user_id:
                        return
                    with session_scope() as session:
                        self.view = load_dashboard(session, user_id).to_dict()
                    if not self.view.get("busy") and self.view.get("instance_status") not in (
                            "awaiting_payment", "pending"):
                        return
        finally:
            async with self:
                self.following = False

    @rx.event
    async def control(self, action: str):  # type: ignore[no-untyped-def]
        """Restart, stop or start (after the confirmation in the page); progress then follows by itself."""
        instance_id, ip = int(self.view.get("instance_id") or 0), self.router.session.client_ip  # type: ignore[call-overload]
        done = await self._customer_action(lambda s, _org, user: control_instance(s, user.id, instance_id, action, ip))
        if done:
            yield rx.toast.info(f"{action.capitalize()} requested.")
            yield DashboardState.load

    @rx.event
    def set_target_plan(self, slug: str) -> None:
        self.target_plan = slug

    async def _customer_action(self, action):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if not user_id:
            return rx.redirect("/login?next=/dashboard")
        try:
            with session_scope() as session:
                org_id = customer_org_id(session, user_id)
                user = session.get(User, user_id)
                result = action(session, org_id or 0, user)
        except Exception as exc:  # noqa: BLE001
            self.errors = errors_from(exc)
            return None
        self.errors = {}
        return result

    @rx.event
    async def manage_billing(self):  # type: ignore[no-untyped-def]
        url = await self._customer_action(lambda s, org, _user: billing_portal_url(s, org))
        if isinstance(url, str):
            yield rx.redirect(url)

    @rx.event
    async def pay_now(self):  # type: ignore[no-untyped-def]
        url = await self._customer_action(retry_payment)
        if isinstance(url, str):
            yield rx.redirect(url)

    @rx.event
    async def apply_plan_change(self):  # type: ignore[no-untyped-def]
        if not self.target_plan:
            self.errors = {"plan": "Choose a plan first."}
            return
        target = self.target_plan
        result = await self._customer_action(lambda s, org, user: change_plan(s, org, user, target) or "")
        if isinstance(result, str) and result:
            yield rx.redirect(result)
        elif result == "":
            yield rx.toast.success("Plan change requested. Your instance gets the new limits in a moment.")
            yield DashboardState.load
