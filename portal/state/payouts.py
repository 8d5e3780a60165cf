"""Payouts in the console: a seller's own Stripe account (Stripe Connect), its status, and the onboarding link;
and the test-mode stand-in for Stripe's onboarding page. The organization is the signed-in staff member's own."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from portal.state.acting import request_host, staff_outside_lock
from portal.state.admin import AdminState
from portal.state.forms import attempt
from services.billing import local
from services.billing.connect import PayoutsView, onboarding_link, payouts_view

EMPTY = PayoutsView().to_dict()


class PayoutsState(rx.State):
    view: dict[str, Any] = EMPTY
    shown: bool = False  # sellers only; the platform's customers pay the platform
    error: str = ""

    @rx.event(background=True)
    async def load(self):
        async with self:
            back = self.router.url.query_parameters.get("payouts") == "return"  # from Stripe's onboarding
        outcome = await staff_outside_lock(self, lambda s, a: _shown(payouts_view(s, a, refresh=back)))
        async with self:
            self.view, self.shown = outcome.value or EMPTY, bool(outcome.value)
        if back:
            yield AdminState.load  # the setup steps, now that the account is known to be connected

    @rx.event(background=True)
    async def connect(self):
        async with self:
            host = request_host(self)
        outcome = await staff_outside_lock(self, lambda s, a: onboarding_link(s, a, host))
        async with self:
            self.error = "; ".join(outcome.errors.values())
        if outcome.value:
            yield rx.redirect(outcome.value)


def _shown(view: PayoutsView | None) -> dict[str, Any] | None:
    return view.to_dict() if view is not None else None


class TestConnectState(rx.State):
    """/billing/test-connect: what Stripe's onboarding would be, in test mode (no keys)."""

    account: str = ""
    return_url: str = "/admin"
    error: str = ""

    @rx.event
    def load(self) -> None:
        query = self.router.url.query_parameters
        self.account = str(query.get("account", ""))[:100]
        back = str(query.get("return", "/admin"))
        self.return_url = back if back.startswith(("http://", "https://", "/")) else "/admin"

    @rx.event
    async def finish(self):
        account = self.account
        outcome = await attempt(asyncio.to_thread(local.set_account_state, account, enabled=True), self)
        if not outcome.ok:
            self.error = "; ".join(outcome.errors.values())
            return
        yield rx.redirect(self.return_url)
