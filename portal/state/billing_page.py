"""/billing: the plan, the invoices, and the changes a customer makes to their subscription themselves.

Every handler reaches Stripe (a second at worst), so each runs in the background, outside the session's lock,
and names nothing by id: the services find the signed-in customer's own subscription.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import client_ip, customer_outside_lock
from portal.state.forms import notice
from services.billing import subscription_changes as changes
from services.i18n import N_
from services.tenancy.scope import Customer

EMPTY = changes.BillingOverview().to_dict()  # every key the page reads, before the first load and after a refusal


class BillingState(rx.State):
    view: dict[str, Any] = EMPTY
    errors: dict[str, str] = {}
    loaded: bool = False
    confirm_subdomain: str = ""

    async def _run(self, work: Callable[[Session, Customer | None], Any]) -> Any:
        outcome = await customer_outside_lock(self, work)
        async with self:
            self.errors = outcome.errors
        return outcome.value

    async def _reload(self) -> None:
        view = await self._run(lambda s, who: changes.billing_overview(s, who).to_dict())
        async with self:
            self.view, self.loaded = view or EMPTY, True

    @rx.event(background=True)
    async def load(self):
        await self._reload()

    @rx.event
    def set_confirm_subdomain(self, value: str) -> None:
        self.confirm_subdomain = value[:100]

    async def _change(self, work: Callable[[Session, Customer | None, str], Any], done: str) -> Any:
        async with self:
            ip = client_ip(self)
        if await self._run(lambda s, who: work(s, who, ip)) is not None:
            await self._reload()
            return await notice(self, done)
        return None

    @rx.event(background=True)
    async def cancel(self):
        yield await self._change(
            lambda s, who, ip: changes.set_cancellation(s, who, True, ip), N_("Cancellation saved.")
        )

    @rx.event(background=True)
    async def resume(self):
        yield await self._change(
            lambda s, who, ip: changes.set_cancellation(s, who, False, ip), N_("Your subscription goes on.")
        )

    @rx.event(background=True)
    async def downgrade(self, slug: str):
        yield await self._change(
            lambda s, who, ip: changes.request_downgrade(s, who, str(slug)[:64], ip), N_("Downgrade scheduled.")
        )

    @rx.event(background=True)
    async def undo_downgrade(self):
        yield await self._change(changes.cancel_downgrade, N_("The downgrade is cancelled."))

    @rx.event(background=True)
    async def delete_instance(self):
        async with self:
            typed = self.confirm_subdomain
        yield await self._change(
            lambda s, who, ip: changes.delete_free_instance(s, who, typed, ip), N_("Your instance is being deleted.")
        )
