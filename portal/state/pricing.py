"""Pricing page data, read from the plans table on every visit so admins' edits show at once."""

from __future__ import annotations

import reflex as rx

from portal.state.brand import BrandState
from portal.state.forms import language_of
from services.billing.plans import public_plans
from services.db import session_scope


class PricingState(rx.State):
    plans: list[dict[str, object]] = []

    @rx.event
    async def load(self) -> None:
        seller, language = (await self.get_state(BrandState)).seller_id(), await language_of(self)
        with session_scope() as session:
            self.plans = [p.to_dict(language) for p in public_plans(session, seller)]
