"""Billing pages: the test-mode checkout, the return pages from checkout, the test-mode billing portal."""

from __future__ import annotations

import asyncio

import reflex as rx

from portal.state.acting import as_customer, request_host
from portal.state.auth import AuthState
from portal.state.forms import attempt, language_of
from services.billing import local
from services.billing.checkout_status import checkout_progress
from services.billing.self_service import retry_payment
from services.i18n.message import localise

POLL_SECONDS = 1.5
POLL_LIMIT = 400


class TestCheckoutState(rx.State):
    session_id: str = ""
    plan_price: str = ""
    plan_name: str = ""
    plan_amount: str = ""
    email: str = ""
    cancel_url: str = "/billing/cancel"  # where Stripe would send a customer who cancels: their seller's host
    found: bool = False
    error: str = ""
    paying: bool = False

    @rx.event
    async def load(self) -> None:
        self.session_id = self.router.url.query_parameters.get("session", "")
        language = await language_of(self)
        summary = local.checkout_summary(self.session_id) if self.session_id.startswith("cs_test_local_") else None
        self.found = summary is not None
        if summary:
            self.plan_price, self.email = str(summary.get("price", "")), str(summary.get("customer_email") or "")
            self.plan_name, self.plan_amount = (
                str(summary.get("plan_name", "")),
                str(localise(summary.get("plan_amount", ""), language)),
            )
            self.cancel_url = str(summary.get("cancel_url") or "/billing/cancel")

    @rx.event
    async def pay(self):
        self.paying = True
        yield
        session_id = self.session_id
        outcome = await attempt(asyncio.to_thread(local.pay, session_id), self)
        if outcome.value is None:
            self.error, self.paying = next(iter(outcome.errors.values())), False
            return
        yield rx.redirect(outcome.value)


class CheckoutReturnState(rx.State):
    """/billing/success follows the real state: payment, subscription, then the instance coming up."""

    headline: str = "Payment received, your instance is being prepared."
    subscription_status: str = ""
    instance_status: str = ""
    instance_url: str = ""
    ready: bool = False
    known: bool = True
    errors: dict[str, str] = {}

    @rx.event(background=True)
    async def follow(self):
        async with self:
            session_id = self.router.url.query_parameters.get("session_id", "")
        for _ in range(POLL_LIMIT):
            progress = checkout_progress(session_id)
            async with self:
                self.known = progress is not None
                if progress:
                    self.subscription_status = progress.subscription_status
                    self.instance_status, self.instance_url = progress.instance_status, progress.instance_url
                    self.ready = progress.instance_status == "running"
            if progress is None or self.ready:
                return
            await asyncio.sleep(POLL_SECONDS)

    @rx.event
    async def try_again(self):
        host = request_host(self)
        outcome = await attempt(as_customer(self, lambda s, who: retry_payment(s, who, host)), self)
        self.errors = outcome.errors
        if outcome.value is not None:
            yield rx.redirect(outcome.value)
        elif outcome.refused and not (await self.get_state(AuthState))._refresh():
            yield rx.redirect("/login?next=/dashboard")
