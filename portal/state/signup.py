"""Sign-up form: live username availability, then account creation and the verification e-mail."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import client_ip, in_session, request_host
from portal.state.auth import AuthState
from portal.state.brand import BrandState
from portal.state.forms import attempt, language_of, words_of
from services.accounts.usernames import username_problem
from services.billing.plans import public_plans
from services.db import session_scope
from services.onboarding import sign_up_for_plan
from services.tenancy.hostnames import base_domain


class SignupState(rx.State):
    errors: dict[str, str] = {}
    username: str = ""
    username_available: bool = False
    submitting: bool = False
    plans: list[dict[str, object]] = []
    plan: str = ""
    instance_domain: str = ""  # read when the page loads, so a changed BASE_DOMAIN needs no new build

    async def _seller(self) -> int | None:
        """Signups on a reseller's domain land in that reseller's tree, with its plans."""
        return (await self.get_state(BrandState)).seller_id()

    @rx.event
    async def load_plans(self) -> None:
        seller, language = await self._seller(), await language_of(self)
        self.instance_domain = base_domain()
        with session_scope() as session:
            self.plans = [p.to_dict(language) for p in public_plans(session, seller)]
        wanted = self.router.url.query_parameters.get("plan", "")
        slugs = [str(p["slug"]) for p in self.plans]
        self.plan = wanted if wanted in slugs else (slugs[0] if slugs else "")

    @rx.event
    def choose_plan(self, slug: str) -> None:
        self.plan = slug

    @rx.event
    def set_username(self, value: str) -> None:
        self.username = value.strip().lower()
        self.errors = {k: v for k, v in self.errors.items() if k != "username"}
        self.username_available = False
        if not self.username:
            return
        with session_scope() as session:
            problem = username_problem(session, self.username)
        if problem:
            self.errors = {**self.errors, "username": problem}
        else:
            self.username_available = True

    @rx.event(background=True)
    async def submit(self, form: dict[str, str]):
        """Account, subscription, instance and (for a paid plan) the checkout session: all or nothing. A
        background event: creating the checkout asks Stripe, which must not hold the session's state lock (see
        portal.state.acting)."""
        async with self:
            self.submitting = True
            seller, ip, agent, host, plan = (
                await self._seller(),
                client_ip(self),
                self.router.headers.user_agent,
                request_host(self),
                self.plan,
            )
            language, words = await words_of(self)
        outcome = await attempt(
            in_session(
                lambda s: sign_up_for_plan(
                    s,
                    email=form.get("email", ""),
                    username=form.get("username", ""),
                    password=form.get("password", ""),
                    plan_slug=plan,
                    seller_id=seller,
                    ip=ip,
                    user_agent=agent,
                    request_host=host,
                    language=language,
                )
            ),
            language=language,
            words=words,
        )
        async with self:
            self.errors, self.submitting = outcome.errors, False
            if outcome.value is not None:
                (await self.get_state(AuthState))._start_session(outcome.value.session_token)
        if outcome.value is not None:
            yield rx.redirect(outcome.value.next_url)
