"""Invitations from the invitee's side: accept or decline as yourself, or accept with a new account."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from portal.state.acting import client_ip, signed_in
from portal.state.auth import AuthState
from portal.state.forms import errors_from
from services.accounts import invitations
from services.accounts.sessions import create_session
from services.db import session_scope


class InvitationsState(rx.State):
    offers: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    # the accept page of a new person's link
    offer: dict[str, str] = {}
    submitting: bool = False

    @rx.event
    async def load(self) -> None:
        current = await signed_in(self)
        if current is None:
            self.offers = []
            return
        with session_scope() as session:
            self.offers = [
                {k: str(v) for k, v in asdict(o).items()} for o in invitations.pending_for(session, current.id)
            ]

    @rx.event
    async def respond(self, invitation_id: str, accept: bool):
        current, ip = await signed_in(self), client_ip(self)
        if current is None:
            yield rx.redirect("/login?next=/invitations")
            return
        if current.impersonator_id is not None:
            self.errors = {"": "Invitations cannot be answered while you impersonate someone."}
            return
        try:
            with session_scope() as session:
                invitations.respond(session, current.id, int(invitation_id), accept=accept, ip=ip)
        except Exception as exc:  # noqa: BLE001
            self.errors = errors_from(exc)
            return
        self.errors = {}
        yield rx.toast.success("Invitation accepted." if accept else "Invitation declined.")
        yield InvitationsState.load

    @rx.event
    def load_offer(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        with session_scope() as session:
            offer = invitations.offer_for_token(session, token)
        self.offer = {k: str(v) for k, v in asdict(offer).items()} if offer else {}

    @rx.event
    async def accept_with_password(self, form: dict[str, str]):
        if form.get("password", "") != form.get("confirm", ""):
            self.errors = {"confirm": "The two passwords are not the same."}
            return
        self.submitting = True
        yield
        token, ip = self.router.url.query_parameters.get("token", ""), client_ip(self)
        try:
            with session_scope() as session:
                user = invitations.accept_new_account(session, token, form.get("password", ""), ip=ip)
                session_token = create_session(
                    session,
                    user.id,
                    ip=ip,
                    user_agent=self.router.headers.user_agent,
                )
        except Exception as exc:  # noqa: BLE001
            self.errors, self.submitting = errors_from(exc), False
            return
        self.errors, self.submitting = {}, False
        auth = await self.get_state(AuthState)
        auth._start_session(session_token)
        yield rx.redirect("/admin" if auth.is_staff else "/dashboard")
