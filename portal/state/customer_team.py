"""/team: the customer's colleagues, their roles and open invitations. Handlers name a membership or invitation by
id as any client could; services.customer.team checks it against the caller's own organization and role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_customer, client_ip
from portal.state.forms import attempt, notice
from services.customer import team
from services.i18n import N_
from services.i18n.message import say
from services.tenancy.scope import Customer

EMPTY = team.TeamView().to_dict()  # every key the page reads, before the first load and after a refusal


class CustomerTeamState(rx.State):
    view: dict[str, Any] = EMPTY
    errors: dict[str, str] = {}
    form_key: int = 0

    async def _do(self, work: Callable[[Session, Customer | None], Any], done: str) -> list[Any]:
        """Run one change; the toast when it went through, then the team read again either way."""
        outcome = await attempt(as_customer(self, work), self)
        self.errors = outcome.errors
        return [await notice(self, done), CustomerTeamState.load] if outcome.ok else [CustomerTeamState.load]

    @rx.event
    async def load(self) -> None:
        outcome = await attempt(as_customer(self, lambda s, who: team.team(s, who).to_dict()), self)
        self.view = outcome.value or EMPTY
        if not outcome.ok:
            self.errors = outcome.errors

    @rx.event
    async def invite(self, form: dict[str, str]):
        ip, email, role = client_ip(self), str(form.get("email", ""))[:254], str(form.get("role", ""))[:20]
        outcome = await attempt(as_customer(self, lambda s, who: team.invite_colleague(s, who, email, role, ip)), self)
        self.errors = outcome.errors
        if outcome.ok:
            self.form_key += 1
            yield await notice(self, say("Invitation sent to {email}.", email=email))
        yield CustomerTeamState.load

    @rx.event
    async def change_role(self, membership_id: str, role: str):
        ip = client_ip(self)
        return await self._do(
            lambda s, who: team.change_role(s, who, _id(membership_id), str(role)[:20], ip), N_("Role changed.")
        )

    @rx.event
    async def remove(self, membership_id: str):
        ip = client_ip(self)
        return await self._do(lambda s, who: team.remove(s, who, _id(membership_id), ip), N_("Removed from the team."))

    @rx.event
    async def withdraw(self, invitation_id: str):
        ip = client_ip(self)
        return await self._do(
            lambda s, who: team.withdraw_invitation(s, who, _id(invitation_id), ip), N_("Invitation withdrawn.")
        )

    @rx.event
    async def leave(self):
        ip = client_ip(self)
        outcome = await attempt(as_customer(self, lambda s, who: team.leave(s, who, ip)), self)
        self.errors = outcome.errors
        if outcome.ok:
            yield rx.redirect("/account")


def _id(value: str) -> int:
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 12 else -1
