"""Console tabs: People (invite, roles, disable) and Plans (create, archive)."""

from __future__ import annotations

import reflex as rx

from portal.state.admin_team import TeamState as T
from services.models import Role
from services.usage.alerts import POLICIES

ROLES = list(Role.ALL)


def _error(name: str) -> rx.Component:
    return rx.cond(T.form_errors.get(name, "") != "",
                   rx.text(T.form_errors.get(name, ""), color_scheme="red", size="1", id=f"team-{name or 'form'}-error"))


def _person(row: rx.Var) -> rx.Component:
    disabled = row["status"].to(str) == "disabled"
    return rx.table.row(
        rx.table.cell(row["email"].to(str)), rx.table.cell(row["organization"].to(str)),
        rx.table.cell(rx.select(ROLES, value=row["role"].to(str), size="1",
                                on_change=lambda role: T.change_role(row["membership_id"].to(str), role))),
        rx.table.cell(rx.badge(row["status"].to(str))),
        rx.table.cell(rx.button(rx.cond(disabled, "Enable", "Disable"), size="1", variant="soft",
                                class_name="toggle-user",
                                on_click=T.toggle_disabled(row["user_id"].to(str), ~disabled))),
        data_person=row["email"].to(str),
    )


def people_section() -> rx.Component:
    return rx.vstack(
        rx.form(rx.hstack(
            rx.input(name="email", placeholder="name@example.com", type="email", id="invite-email", width="18rem"),
            rx.select(ROLES, name="role", default_value=Role.SUPPORT, id="invite-role"),
            rx.button("Invite", type="submit", id="invite-submit"), align="center"),
            on_submit=T.invite, reset_on_submit=True),
        _error("email"), _error("role"), _error(""),
        rx.input(placeholder="Search people", value=T.people_search, on_change=T.search_people,
                 debounce_timeout=300, width="18rem"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("E-mail", "Organization", "Role", "Status", "")])),
            rx.table.body(rx.foreach(T.people, _person)), width="100%", size="1", id="people-table"),
        width="100%", align="start",
    )


def _plan(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(row[k].to(str)) for k in ("seller", "name", "slug", "price_cents", "budget", "policy",
                                                   "subscriptions", "archived")],
        rx.table.cell(rx.cond(row["archived"].to(str) == "", rx.button(
            "Archive", size="1", variant="soft", class_name="archive-plan",
            on_click=T.archive_plan(row["id"].to(str))))),
        data_plan=row["slug"].to(str),
    )


def plans_section() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Seller", "Name", "Slug", "Price (cents)", "Budget", "At 100 %", "Subscriptions", "Archived", "")])),
            rx.table.body(rx.foreach(T.plans, _plan)), width="100%", size="1", id="plans-table"),
        rx.heading("New plan", size="3"),
        rx.form(rx.flex(
            rx.input(name="name", placeholder="Name", id="plan-name-input"),
            rx.input(name="slug", placeholder="slug", id="plan-slug-input"),
            rx.input(name="price_cents", placeholder="Price in cents", id="plan-price-input"),
            rx.input(name="stripe_price_id", placeholder="Stripe price id (paid plans)", id="plan-stripe-input"),
            rx.input(name="budget", placeholder="Included budget, e.g. 10", id="plan-budget-input"),
            rx.select(list(POLICIES), name="budget_policy", default_value="notify"),
            rx.button("Save plan", type="submit", id="plan-save"), wrap="wrap", spacing="2"),
            on_submit=T.create_plan),
        *[_error(f) for f in ("name", "slug", "price_cents", "stripe_price_id", "budget_included_micros",
                             "budget_policy", "")],
        width="100%", align="start",
    )


def licences_section() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Reseller", "Tier", "Customers", "Authorised domains", "Expires")])),
            rx.table.body(rx.foreach(T.licences, lambda r: rx.table.row(
                *[rx.table.cell(r[k].to(str)) for k in ("name", "tier", "customers", "domains", "expires")],
                data_licence=r["name"].to(str)))), width="100%", size="1", id="licences-table"),
        rx.heading("Set a licence", size="3"),
        rx.form(rx.flex(
            rx.select.root(rx.select.trigger(placeholder="Reseller"), rx.select.content(rx.foreach(
                T.licences, lambda r: rx.select.item(r["name"].to(str), value=r["id"].to(str)))),
                name="organization_id"),
            rx.input(name="tier", placeholder="Tier"),
            rx.input(name="max_customers", placeholder="Max customers"),
            rx.input(name="max_instances", placeholder="Max instances"),
            rx.input(name="max_domains", placeholder="Max domains"),
            rx.input(name="domains", placeholder="Authorised domains, comma separated"),
            rx.input(name="features", placeholder="Features, comma separated"),
            rx.button("Save licence", type="submit"), wrap="wrap", spacing="2"),
            on_submit=T.save_licence),
        *[_error(f) for f in ("tier", "max_customers", "max_instances", "max_domains", "authorized_domains", "")],
        width="100%", align="start",
    )
