"""The one way a state handler learns who is acting: the session is resolved again on every call.

A handler never trusts a user id it remembered: a revoked session, a disabled account or an impersonation
whose admin lost the right ends at the next call. Customers act as `services.tenancy.scope.Customer`, staff as
`Actor`; the services then authorise every record through the one scoping function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from portal.state.auth import AuthState
from portal.state.forms import Outcome, attempt
from services.accounts.sessions import CurrentUser
from services.db import session_scope
from services.tenancy.scope import Actor, Customer, resolve_actor, resolve_customer

T = TypeVar("T")


class SignedOut(PermissionError):
    """The session ended (signed out, revoked, disabled); the message is safe to show."""

    def __init__(self) -> None:
        super().__init__("Your session has ended. Please sign in again.")


async def signed_in(state: rx.State) -> CurrentUser | None:
    """The signed-in person as the database says now (None once the session is gone)."""
    return (await state.get_state(AuthState))._current_user()


async def as_customer(state: rx.State, work: Callable[[Session, Customer | None], T]) -> T:
    """Run `work` for the signed-in customer (or the staff member impersonating them), in one transaction,
    in a worker thread: nothing a service does (a template rendered, a provider asked) stalls the event loop."""
    return await asyncio.to_thread(_as_customer, await signed_in(state), work)


def _as_customer(current: CurrentUser | None, work: Callable[[Session, Customer | None], T]) -> T:
    if current is None:
        raise SignedOut()
    with session_scope() as session:
        return work(session, resolve_customer(session, current.id, current.impersonator_id))


NOT_WHILE_IMPERSONATING = "Sign-in settings cannot be changed while you impersonate someone."


async def as_account_owner(state: rx.State, work: Callable[[Session, CurrentUser], T], *, changes: bool = True) -> T:
    """Run `work` on the signed-in person's own account (password, two-factor, sessions). Looking is fine while
    impersonating; changing the account is not."""
    current = await signed_in(state)
    if current is None:
        raise SignedOut()
    if changes and current.impersonator_id is not None:
        raise PermissionError(NOT_WHILE_IMPERSONATING)
    return await in_session(lambda session: work(session, current))


async def as_staff(state: rx.State, work: Callable[[Session, Actor | None], T]) -> T:
    """Run `work` for the signed-in staff member (None when they are not staff: the services refuse), in a
    worker thread like `as_customer`."""
    return await asyncio.to_thread(_as_staff, await signed_in(state), work)


def _as_staff(current: CurrentUser | None, work: Callable[[Session, Actor | None], T]) -> T:
    with session_scope() as session:
        actor = (
            resolve_actor(session, current.id, current.email)
            if current is not None and current.impersonator_id is None
            else None
        )
        return work(session, actor)


# Calls that leave the process (a Docker engine's logs, Coolify, Stripe, a DNS server) can take seconds. A normal
# handler holds the browser session's state lock until it returns: the tab's other events wait, and under Redis
# the lock expires at 10 s and Reflex throws the handler's writes away. Such handlers are background events that
# read who is acting under the lock, then call out without it (the scaled browser suite fails on any handler
# that holds the lock over a second).


async def customer_outside_lock(state: rx.State, work: Callable[[Session, Customer | None], T]) -> Outcome[T]:
    """`as_customer` for a background event; the outcome, so the handler shows it under the lock again."""
    async with state:
        current = await signed_in(state)
    return await attempt(asyncio.to_thread(_as_customer, current, work))


async def staff_outside_lock(state: rx.State, work: Callable[[Session, Actor | None], T]) -> Outcome[T]:
    """`as_staff` for a background event, like `customer_outside_lock`."""
    async with state:
        current = await signed_in(state)
    return await attempt(asyncio.to_thread(_as_staff, current, work))


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
