"""Invitations from the invitee's side: accept or decline as yourself, or accept with a new account."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from portal.state.acting import as_account_owner, client_ip, in_session
from portal.state.auth import AuthState
from portal.state.forms import attempt, notice
from services.accounts import invitations
from services.i18n import N_


class InvitationsState(rx.State):
    offers: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    # the accept page of a new person's link
    offer: dict[str, str] = {}
    submitting: bool = False

    @rx.event
    async def load(self) -> None:
        outcome = await attempt(
            as_account_owner(self, lambda s, me: invitations.pending_for(s, me.id), changes=False), self
        )
        self.offers = [{k: str(v) for k, v in asdict(o).items()} for o in outcome.value or []]

    @rx.event
    async def respond(self, invitation_id: str, accept: bool):
        ip = client_ip(self)
        outcome = await attempt(
            as_account_owner(
                self, lambda s, me: invitations.respond(s, me.id, int(invitation_id), accept=accept, ip=ip)
            ),
            self,
        )
        self.errors = outcome.errors
        if outcome.ok:
            yield await notice(self, N_("Invitation accepted.") if accept else N_("Invitation declined."))
            yield InvitationsState.load

    @rx.event
    async def load_offer(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        offer = await in_session(lambda s: invitations.offer_for_token(s, token))
        self.offer = {k: str(v) for k, v in asdict(offer).items()} if offer else {}

    @rx.event
    async def accept_with_password(self, form: dict[str, str]):
        if form.get("password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        self.submitting = True
        yield
        token, ip, agent = (
            self.router.url.query_parameters.get("token", ""),
            client_ip(self),
            self.router.headers.user_agent,
        )
        outcome = await attempt(
            in_session(
                lambda s: invitations.accept_and_sign_in(s, token, form.get("password", ""), ip=ip, user_agent=agent)
            ),
            self,
        )
        self.errors, self.submitting = outcome.errors, False
        if outcome.value is None:
            return
        auth = await self.get_state(AuthState)
        auth._start_session(outcome.value)
        yield rx.redirect("/admin" if auth.is_staff else "/dashboard")
