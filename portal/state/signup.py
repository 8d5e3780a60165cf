"""Sign-up form: live username availability, then account creation and the verification e-mail."""

from __future__ import annotations

import reflex as rx

from portal.state.acting import request_host
from portal.state.auth import AuthState
from portal.state.brand import BrandState
from portal.state.forms import errors_from
from services.accounts import service
from services.accounts.sessions import create_session
from services.accounts.usernames import username_problem
from services.billing.enrolment import enrol
from services.billing.plans import public_plans
from services.db import session_scope
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
        seller = await self._seller()
        self.instance_domain = base_domain()
        with session_scope() as session:
            self.plans = [p.to_dict() for p in public_plans(session, seller)]
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

    @rx.event
    async def submit(self, form: dict[str, str]):
        """Account, subscription, instance and (for a paid plan) the checkout session: all or nothing."""
        self.submitting = True
        yield
        seller = await self._seller()
        try:
            with session_scope() as session:
                result = service.signup(
                    session,
                    email=form.get("email", ""),
                    username=form.get("username", ""),
                    password=form.get("password", ""),
                    ip=self.router.session.client_ip,
                    parent_org_id=seller,
                )
                enrolment = enrol(
                    session,
                    organization_id=result.organization_id,
                    email=result.email,
                    plan_slug=self.plan,
                    request_host=request_host(self),
                )
                token = create_session(
                    session, result.user_id, ip=self.router.session.client_ip, user_agent=self.router.headers.user_agent
                )
        except Exception as exc:  # noqa: BLE001 - errors_from() sorts expected from unexpected
            self.errors = errors_from(exc)
            self.submitting = False
            return
        self.errors, self.submitting = {}, False
        auth = await self.get_state(AuthState)
        auth._start_session(token)
        yield rx.redirect(enrolment.checkout_url or "/dashboard")
