"""The console's People and Plans tabs: thin handlers over services/admin/users.py and plans.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from portal.state.admin import AdminState
from portal.state.forms import notice
from services.accounts import invitations
from services.admin import licences, plans, resellers, templates, users
from services.i18n import N_
from services.tenancy.scope import Actor


class TeamState(AdminState):
    people: list[dict[str, str]] = []
    invitations: list[dict[str, str]] = []
    people_search: str = ""
    plans: list[dict[str, str]] = []
    rollouts: list[dict[str, str]] = []
    sellers: list[dict[str, str]] = []  # the resellers (or sub-resellers) the actor's organization created
    can_create_sellers: bool = False
    form_errors: dict[str, str] = {}
    licences: list[dict[str, str]] = []
    templates: list[dict[str, str]] = []
    template_form: dict[str, str] = {}  # the template being created or edited (its "id" when editing)
    plan_form: dict[str, str] = {}

    def _fill(self, session: Session, actor: Actor | None) -> None:
        if actor is None:
            return
        self.people = users.list_users(session, actor, search=self.people_search)[0]
        self.invitations = invitations.list_pending(session, actor)
        self.plans = plans.list_plans(session, actor, include_archived=True)
        self.rollouts = plans.list_rollouts(session, actor)
        self.can_create_sellers = actor.organization_kind in resellers.CHILD_KIND
        self.sellers = resellers.sellers_below(session, actor) if self.can_create_sellers else []
        self.licences = licences.list_licences(session, actor) if actor.is_platform else []
        self.templates = templates.list_templates(session, actor)

    async def _change(self, work: Callable[[Session, Actor | None], object], done: str) -> EventSpec | None:
        """Run a change; field errors go to the form, refusals to the page; then everything is re-read."""
        outcome = await self._attempt(work)
        if not outcome.ok and not outcome.refused:
            self.form_errors = outcome.errors
            return None
        await self._run(self._fill)
        if outcome.ok and not self.error:
            self.form_errors = {}
            return await notice(self, done)
        return None

    @rx.event
    async def load_team(self) -> None:
        await self._run(self._fill)

    @rx.event
    async def search_people(self, value: str) -> None:
        self.people_search = value
        await self._run(self._fill)

    @rx.event
    async def invite(self, form: dict[str, Any]):
        ip = self._ip()
        return await self._change(
            lambda s, a: invitations.invite(
                s,
                a,
                email=form.get("email") or "",
                role=form.get("role") or "member",
                organization_id=a.organization_id if a else -1,
                ip=ip,
            ),
            N_("Invitation sent."),
        )

    @rx.event
    async def create_seller(self, form: dict[str, Any]):
        ip, values = self._ip(), {k: str(v)[:1000] for k, v in form.items()}
        return await self._change(lambda s, a: resellers.create_seller(s, a, values, ip=ip), N_("Reseller created."))

    @rx.event
    async def revoke_invitation(self, invitation_id: str):
        ip = self._ip()
        return await self._change(
            lambda s, a: invitations.revoke(s, a, int(invitation_id), ip=ip), N_("Invitation withdrawn.")
        )

    @rx.event
    async def change_role(self, membership_id: str, role: str):
        ip = self._ip()
        return await self._change(
            lambda s, a: users.change_role(s, a, int(membership_id), role, ip=ip), N_("Role changed.")
        )

    @rx.event
    async def toggle_disabled(self, user_id: str, disable: bool):
        ip = self._ip()
        return await self._change(
            lambda s, a: users.set_disabled(s, a, int(user_id), disable, ip=ip),
            N_("Account disabled.") if disable else N_("Account enabled."),
        )

    @rx.event
    def set_plan_field(self, name: str, value: str) -> None:
        self.plan_form = {**self.plan_form, name: value}

    @rx.event
    def edit_plan(self, plan_id: str) -> None:
        row = next((p for p in self.plans if p["id"] == plan_id), None)
        if row is not None:
            self.plan_form = {
                "id": row["id"],
                "name": row["name"],
                "slug": row["slug"],
                "budget": row["budget"],
                "price_cents": row["price_cents"],
                "stripe_price_id": row["stripe_price_id"],
                "budget_policy": row["policy"],
                "limit_memory_mb": row["memory_mb"],
                "limit_cpus": row["cpus"],
                "limit_backup_interval_hours": row["backup_interval_hours"],
                "limit_backups_kept": row["backups_kept"],
                "region": row["region"],
            }

    @rx.event
    async def save_plan_form(self):
        values, ip = plan_values(self.plan_form), self._ip()  # parsed by services.admin.plans.PlanForm
        plan_id = int(self.plan_form["id"]) if str(self.plan_form.get("id", "")).isdigit() else None
        done = await self._change(
            lambda s, a: plans.save_plan(
                s, a, values, organization_id=a.organization_id if a else -1, plan_id=plan_id, ip=ip
            ),
            N_("Plan saved."),
        )
        if done is not None:
            self.plan_form = {}
        return done

    @rx.event
    def set_template_field(self, name: str, value: str) -> None:
        self.template_form = {**self.template_form, name: value}

    @rx.event
    def edit_template(self, template_id: str) -> None:
        row = next((t for t in self.templates if t["id"] == template_id), None)
        if row is not None:
            self.template_form = {
                k: row[k] for k in ("id", "name", "slug", "backend", "image", "port", "health_path", "env_template")
            }

    @rx.event
    async def save_template_form(self):
        form, ip = dict(self.template_form), self._ip()
        values = {**form, "internal_port": form.get("port") or "8080"}
        template_id = int(form["id"]) if form.get("id") else None
        done = await self._change(
            lambda s, a: templates.save_template(s, a, values, template_id=template_id, ip=ip), N_("Template saved.")
        )
        if done is not None:
            self.template_form = {}
        else:  # shown under the template form, not the plan form above it
            self.form_errors = {f"template_{k}": v for k, v in self.form_errors.items()}
        return done

    @rx.event
    async def archive_template(self, template_id: str):
        ip = self._ip()
        return await self._change(
            lambda s, a: templates.archive_template(s, a, int(template_id), ip=ip), N_("Template archived.")
        )

    @rx.event
    async def archive_plan(self, plan_id: str):
        ip = self._ip()
        return await self._change(lambda s, a: plans.archive_plan(s, a, int(plan_id), ip=ip), N_("Plan archived."))

    @rx.event
    async def save_licence(self, form: dict[str, Any]):
        ip, organization_id = self._ip(), int(form.get("organization_id") or 0)
        return await self._change(  # the form is parsed by services.admin.licences.LicenceForm
            lambda s, a: licences.save_licence(s, a, organization_id, form, ip=ip),
            N_("Licence saved."),
        )


def plan_values(form: dict[str, str]) -> dict[str, object]:
    """The console's plan form as the plan service reads it: `limit_*` fields become the limits (blank ones are
    left out); the rest goes as typed, checked by services.admin.plans.PlanForm."""
    values: dict[str, object] = {k: v for k, v in form.items() if not k.startswith("limit_")}
    limits = {k.removeprefix("limit_"): v.strip() for k, v in form.items() if k.startswith("limit_") and v.strip()}
    if any(k.startswith("limit_") for k in form):
        values["limits"] = {k: float(v) if "." in v else int(v) if v.isdigit() else v for k, v in limits.items()}
        # the fields left blank clear their limit; the limits the form does not show are kept (services.admin.plans)
        values["limits_cleared"] = [
            k.removeprefix("limit_") for k, v in form.items() if k.startswith("limit_") and not v.strip()
        ]
    return values
