"""Who is signed in. The browser keeps a random session token; everything else is looked up server-side."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from services.accounts import login as login_flow
from services.accounts.sessions import CurrentUser, resolve_session
from services.admin import impersonation
from services.db import session_scope
from services.i18n import N_
from services.tenancy.scope import is_staff


def signed_in_as(session: Session, token: str) -> tuple[CurrentUser | None, bool]:
    """Who the browser's session token belongs to now, and whether they are staff (for the header's links)."""
    current = resolve_session(session, token)
    return current, current is not None and current.impersonator_id is None and is_staff(session, current.id)


def set_changed(state: rx.State, **values: object) -> None:
    """Set only the vars whose value changes: Reflex sends (and stores) every var that is set, equal or not, and
    the dashboard refreshes every couple of seconds with nothing new most of the time."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


class AuthState(rx.State):
    auth_token: str = rx.LocalStorage("", name="portal_session", sync=True)
    # while an admin impersonates a customer's user, their own session waits here to be restored
    admin_token: str = rx.LocalStorage("", name="portal_admin_session", sync=True)
    impersonator: str = ""
    username: str = ""
    email: str = ""
    email_verified: bool = True
    is_staff: bool = False
    _user_id: int = 0
    _session_hash: str = ""
    _impersonator_id: int = 0

    @rx.var
    def signed_in(self) -> bool:
        return self.username != ""

    def _current_user(self) -> CurrentUser | None:
        """Resolve the session now and keep the header's fields in step; None once it has ended."""
        with session_scope() as session:
            current, staff = signed_in_as(session, self.auth_token)
        return self._show_user(current, staff)

    def _show_user(self, current: CurrentUser | None, staff: bool) -> CurrentUser | None:
        """The header's fields for who `signed_in_as` found (cleared once the session has ended)."""
        if current is None:
            set_changed(
                self,
                _user_id=0,
                _session_hash="",
                username="",
                email="",
                is_staff=False,
                impersonator="",
                _impersonator_id=0,
            )
            return None
        set_changed(
            self,
            impersonator=current.impersonator_email,
            _impersonator_id=current.impersonator_id or 0,
            is_staff=staff,
            _user_id=current.id,
            _session_hash=current.session_hash,
            username=current.username,
            email=current.email,
            email_verified=current.email_verified,
        )
        return current

    def _refresh(self) -> bool:
        return self._current_user() is not None

    @rx.event
    def load_user(self) -> None:
        """on_load of public pages: the header shows the right links."""
        self._refresh()

    @rx.event
    def require_login(self) -> EventSpec | None:
        """on_load of private pages: an expired or revoked session goes back to the sign-in page."""
        if self._refresh():
            return None
        return rx.redirect(f"/login?next={self.router.url.path}")

    @rx.event
    def redirect_if_signed_in(self) -> EventSpec | None:
        if self._refresh():
            return rx.redirect("/dashboard")
        return None

    def _start_session(self, token: str) -> None:
        self.auth_token = token
        self._refresh()

    def _impersonate(self, token: str) -> None:
        self.admin_token, self.auth_token = self.auth_token, token
        self._refresh()

    async def _notice(self, text: str) -> EventSpec:
        from portal.state.forms import notice  # forms reads the page's language, whose state reads this one

        return await notice(self, text, "info")

    @rx.event
    async def end_impersonation(self) -> list[EventSpec]:
        """Back to the admin's own session; the impersonation session is revoked and the end audited."""
        if not self.admin_token:
            return [rx.redirect("/dashboard")]
        with session_scope() as session:
            impersonation.end(session, self.auth_token, ip=self.router.session.client_ip)
        self.auth_token, self.admin_token = self.admin_token, ""
        self._refresh()
        return [await self._notice(N_("Impersonation ended.")), rx.redirect("/admin")]

    @rx.event
    async def sign_out(self) -> list[EventSpec]:
        """Signing out while impersonating signs the admin out too: both sessions end here."""
        with session_scope() as session:
            login_flow.logout(session, self.auth_token)
            login_flow.logout(session, self.admin_token)
        self.auth_token, self.admin_token = "", ""
        self._refresh()
        return [await self._notice(N_("You are signed out.")), rx.redirect("/")]
