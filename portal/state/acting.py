"""The one way a state handler learns who is acting: the session is resolved again on every call.

A handler never trusts a user id it remembered: a revoked session, a disabled account or an impersonation
whose admin lost the right ends at the next call. Customers act as `services.tenancy.scope.Customer`, staff as
`Actor`; the services then authorise every record through the one scoping function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from portal.state.auth import AuthState, signed_in_as
from portal.state.forms import Outcome, attempt, words_of
from services.accounts.sessions import CurrentUser
from services.db import session_scope
from services.tenancy.scope import Actor, Customer, resolve_actor, resolve_customer

T = TypeVar("T")


class SignedOut(PermissionError):
    """The session ended (signed out, revoked, disabled); the message is safe to show."""

    def __init__(self) -> None:
        super().__init__("Your session has ended. Please sign in again.")


@dataclass
class _Seen:
    """Who the session belonged to, as found inside the worker thread (the header is updated from it after)."""

    current: CurrentUser | None = None
    staff: bool = False
    found: bool = False


def _resolve_and_run(token: str, act: Callable[[Session, CurrentUser | None], T], seen: _Seen) -> T:
    """In a worker thread, one transaction: resolve the session token, then `act` for whoever it belongs to.

    Resolving off the event loop and in the same transaction as the work keeps the loop free for every other
    browser and saves a transaction per event (bench/scale.py)."""
    with session_scope() as session:
        seen.current, seen.staff = signed_in_as(session, token)
        seen.found = True
        if seen.current is None:
            session.commit()  # an impersonation that lost its right was revoked just now: keep that
        return act(session, seen.current)


def _customer_work(work: Callable[[Session, Customer | None], T]) -> Callable[[Session, CurrentUser | None], T]:
    def act(session: Session, current: CurrentUser | None) -> T:
        if current is None:
            raise SignedOut()
        return work(session, resolve_customer(session, current.id, current.impersonator_id))

    return act


def _staff_work(work: Callable[[Session, Actor | None], T]) -> Callable[[Session, CurrentUser | None], T]:
    def act(session: Session, current: CurrentUser | None) -> T:
        staff = current is not None and current.impersonator_id is None
        return work(session, resolve_actor(session, current.id, current.email) if staff and current else None)

    return act


async def _acting(state: rx.State, act: Callable[[Session, CurrentUser | None], T]) -> T:
    auth, seen = await state.get_state(AuthState), _Seen()
    try:
        return await asyncio.to_thread(_resolve_and_run, auth.auth_token, act, seen)
    finally:
        if seen.found:
            auth._show_user(seen.current, seen.staff)


async def as_customer(state: rx.State, work: Callable[[Session, Customer | None], T]) -> T:
    """Run `work` for the signed-in customer (or the staff member impersonating them), in one transaction,
    in a worker thread: nothing a service does (a template rendered, a provider asked) stalls the event loop."""
    return await _acting(state, _customer_work(work))


NOT_WHILE_IMPERSONATING = "Sign-in settings cannot be changed while you impersonate someone."


async def as_account_owner(state: rx.State, work: Callable[[Session, CurrentUser], T], *, changes: bool = True) -> T:
    """Run `work` on the signed-in person's own account (password, two-factor, sessions). Looking is fine while
    impersonating; changing the account is not."""

    def act(session: Session, current: CurrentUser | None) -> T:
        if current is None:
            raise SignedOut()
        if changes and current.impersonator_id is not None:
            raise PermissionError(NOT_WHILE_IMPERSONATING)
        return work(session, current)

    return await _acting(state, act)


async def as_staff(state: rx.State, work: Callable[[Session, Actor | None], T]) -> T:
    """Run `work` for the signed-in staff member (None when they are not staff: the services refuse), in a
    worker thread like `as_customer`."""
    return await _acting(state, _staff_work(work))


# Calls that leave the process (a Docker engine's logs, Coolify, Stripe, a DNS server) can take seconds. A normal
# handler holds the browser session's state lock until it returns: the tab's other events wait, and under Redis
# the lock expires at 10 s and Reflex throws the handler's writes away. Such handlers are background events that
# read who is acting under the lock, then call out without it (the scaled browser suite fails on any handler
# that holds the lock over a second).


async def _acting_outside_lock(state: rx.State, act: Callable[[Session, CurrentUser | None], T]) -> Outcome[T]:
    async with state:
        token = (await state.get_state(AuthState)).auth_token
        language, words = await words_of(state)
    seen = _Seen()
    outcome = await attempt(asyncio.to_thread(_resolve_and_run, token, act, seen), language=language, words=words)
    if seen.found:
        async with state:
            (await state.get_state(AuthState))._show_user(seen.current, seen.staff)
    return outcome


async def customer_outside_lock(state: rx.State, work: Callable[[Session, Customer | None], T]) -> Outcome[T]:
    """`as_customer` for a background event; the outcome, so the handler shows it under the lock again."""
    return await _acting_outside_lock(state, _customer_work(work))


async def staff_outside_lock(state: rx.State, work: Callable[[Session, Actor | None], T]) -> Outcome[T]:
    """`as_staff` for a background event, like `customer_outside_lock`."""
    return await _acting_outside_lock(state, _staff_work(work))


async def in_session(work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction in a worker thread, for flows before anyone is signed in (sign-in, sign-up,
    e-mailed links)."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    return await asyncio.to_thread(run)


def request_host(state: rx.State) -> str:
    """The host the page was opened on; services only use it when it is one of the seller's own domains."""
    return state.router.url.hostname or ""


def client_ip(state: rx.State) -> str:
    return state.router.session.client_ip
