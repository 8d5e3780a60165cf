"""The dashboard's custom domains: add one, see each one's records and status step by step, check now, remove.

Every call names the dashboard's instance or a domain by id; the services check both against the signed-in
customer (services/domains/claims.py) before anything is read or changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal.state.acting import as_customer, client_ip
from portal.state.dashboard import DashboardState
from portal.state.forms import attempt, notice
from services.domains import claims
from services.i18n import N_
from services.tenancy.scope import Customer

FOLLOW_SECONDS = 2.0
FOLLOW_ROUNDS = 15
SETTLED = ("serving", "failed")


class DomainsState(rx.State):
    domains: list[dict[str, Any]] = []
    may_add: bool = False
    allowance: int = 0
    errors: dict[str, str] = {}
    following: bool = False

    async def _instance_id(self) -> int:
        return int((await self.get_state(DashboardState)).view.get("instance_id") or 0)

    async def _act(self, work: Callable[[Session, Customer | None], Any]) -> bool:
        outcome = await attempt(as_customer(self, work), self)
        self.errors = outcome.errors
        return outcome.ok

    async def _read(self) -> None:
        instance_id = await self._instance_id()
        if not instance_id:
            self.domains, self.may_add, self.allowance = [], False, 0
            return
        outcome = await attempt(as_customer(self, lambda s, who: claims.instance_domains(s, who, instance_id)), self)
        page: dict[str, Any] = outcome.value or {}
        self.domains = list(page.get("domains") or [])
        self.may_add, self.allowance = bool(page.get("may_add")), int(page.get("allowance") or 0)

    @rx.event
    async def load(self) -> None:
        self.errors = {}
        await self._read()

    @rx.event
    async def add(self, form: dict[str, str]):
        instance_id, ip, hostname = await self._instance_id(), client_ip(self), form.get("hostname") or ""
        if await self._act(lambda s, who: claims.add_instance_domain(s, who, instance_id, hostname, ip)):
            await self._read()
            yield await notice(self, N_("Domain added. Create the records shown; we check them for you."))
            yield DomainsState.follow

    @rx.event
    async def remove(self, domain_id: int):
        ip = client_ip(self)
        if await self._act(lambda s, who: claims.remove_instance_domain(s, who, int(domain_id), ip)):
            await self._read()
            yield await notice(self, N_("Domain removed."), "info")

    @rx.event
    async def check_now(self, domain_id: int):
        ip = client_ip(self)
        if await self._act(lambda s, who: claims.check_instance_domain_now(s, who, int(domain_id), ip)):
            yield DomainsState.follow

    @rx.event(background=True)
    async def follow(self):
        """A few refreshes while a check runs in the job queue, so each step shows as it happens."""
        async with self:
            if self.following:
                return
            self.following = True
        try:
            for _ in range(FOLLOW_ROUNDS):
                await asyncio.sleep(FOLLOW_SECONDS)
                async with self:
                    await self._read()
                    if all(d.get("status") in SETTLED for d in self.domains):
                        return
        finally:
            async with self:
                self.following = False
