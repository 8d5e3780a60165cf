"""Admin console handlers: resolve the actor from the session, call services/admin, show refusals as errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_staff
from portal.state.forms import Outcome, attempt, notice
from services.admin import provisioning as admin_provisioning
from services.admin import resellers, webhook_events
from services.admin.integrations import integration_status
from services.i18n import N_
from services.i18n.message import say
from services.ops.incidents import open_notices
from services.tenancy.licences import console_banner
from services.tenancy.scope import Actor

T = TypeVar("T")


class AdminState(rx.State):
    allowed: bool = False
    is_platform: bool = False
    events: list[dict[str, Any]] = []
    events_total: int = 0
    event_status: str = ""
    event_page: int = 1
    actions: list[dict[str, Any]] = []
    action_status: str = "parked"
    error: str = ""
    integrations: list[dict[str, str]] = []
    licence_banner: str = ""
    incidents: list[dict[str, Any]] = []
    setup_steps: list[dict[str, str]] = []  # a seller's next steps (brand, domain, plans, payouts)

    async def _attempt(self, work: Callable[[Session, Actor | None], T]) -> Outcome[T]:
        """Run one operation for the signed-in staff member. A refusal of access becomes the page's error; bad
        input is left in the outcome's errors for the form that sent it."""
        outcome = await attempt(as_staff(self, work), self)
        if outcome.refused:
            self.error = "; ".join(outcome.errors.values())
        return outcome

    async def _run(self, work: Callable[[Session, Actor | None], T]) -> T | None:
        """A read (or a change without a form): any refusal becomes the page's error message."""
        return self._shown(await self._attempt(work))

    def _shown(self, outcome: Outcome[T]) -> T | None:
        """The outcome's value; whatever went wrong becomes the page's error message."""
        if not outcome.ok:
            self.error = "; ".join(outcome.errors.values())
        return outcome.value

    async def _succeeded(self, work: Callable[[Session, Actor | None], object]) -> bool:
        """Run one change; True once it went through (a refusal becomes the page's error message)."""

        def run(session: Session, actor: Actor | None) -> bool:
            work(session, actor)
            return True

        return bool(await self._run(run))

    def _ip(self) -> str:
        return self.router.session.client_ip

    def _reload(self, session: Session, actor: Actor | None) -> None:
        self.allowed, self.is_platform = actor is not None, bool(actor and actor.is_platform)
        if actor is None:
            return
        self.licence_banner = console_banner(session, actor.organization_id)
        self.incidents = [notice.to_dict() for notice in open_notices(session, actor)]
        self.actions = admin_provisioning.list_actions(session, actor, status=self.action_status)
        self.setup_steps = resellers.setup_steps(session, actor)
        if actor.is_platform:
            self.events, self.events_total = webhook_events.list_events(
                session, actor, status=self.event_status, page=self.event_page
            )
            self.integrations = integration_status()

    async def _load(self) -> None:
        self.error = ""
        await self._run(self._reload)

    @rx.event
    async def load(self) -> None:
        await self._load()

    @rx.event
    async def filter_events(self, status: str) -> None:
        self.event_status, self.event_page = ("" if status == "all" else status), 1
        await self._load()

    @rx.event
    async def events_page(self, delta: int) -> None:
        self.event_page = max(1, self.event_page + delta)
        await self._load()

    @rx.event
    async def filter_actions(self, status: str) -> None:
        self.action_status = "" if status == "all" else status
        await self._load()

    @rx.event
    async def replay(self, stripe_id: str):
        ip = self._ip()
        if await self._succeeded(lambda s, a: webhook_events.replay_event(s, a, stripe_id, ip=ip)):
            yield await notice(self, say("Event {stripe_id} queued for replay.", stripe_id=stripe_id))
        await self._load()

    @rx.event
    async def retry(self, action_id: str):
        ip = self._ip()
        if await self._succeeded(lambda s, a: admin_provisioning.retry_action(s, a, action_id, ip=ip)):
            yield await notice(self, N_("Retry started."))
        await self._load()
