"""Invitations from the invitee's side: accept or decline as yourself, or accept with a new account."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from portal.state.acting import as_account_owner, client_ip, in_session
from portal.state.auth import AuthState
from portal.state.forms import attempt, language_of, notice
from services.accounts import invitations
from services.i18n import N_
from services.i18n.message import localise_values


class InvitationsState(rx.State):
    offers: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    # the accept page of a new person's link
    offer: dict[str, str] = {}
    submitting: bool = False

    @rx.event
    async def load(self) -> None:
        pending = as_account_owner(self, lambda s, me: invitations.pending_for(s, me.id), changes=False)
        outcome, language = await attempt(pending, self), await language_of(self)
        self.offers = [_shown(o, language) for o in outcome.value or []]

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
        self.offer = _shown(offer, await language_of(self)) if offer else {}

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


def _shown(offer: invitations.Offer, language: str) -> dict[str, str]:
    """An invitation as the page shows it: its expiry date in the page's language."""
    return {name: str(value) for name, value in localise_values(asdict(offer), language).items()}
