"""The admin console: provisioning actions (with retry) and Stripe webhook events (with replay)."""

import reflex as rx

from portal.components.empty import when_empty
from portal.components.i18n import t
from portal.components.layout import page
from portal.pages.admin.customers import audit_section, customers_section, overview_section
from portal.pages.admin.servers import servers_section
from portal.pages.admin.team import licences_section, people_section, plans_section, sellers_section
from portal.state.admin import AdminState
from portal.state.admin_customers import ConsoleState
from portal.state.admin_servers import ServersState
from portal.state.admin_team import TeamState
from portal.state.auth import AuthState
from portal.state.payouts import PayoutsState


def _filter(options: list[str], value: rx.Var, on_change, id_: str) -> rx.Component:
    return rx.select(
        options,
        value=rx.cond(value == "", "all", value),
        on_change=on_change,
        id=id_,
        size="1",
        custom_attrs={"aria-label": t("Show")},  # the trigger's name: Radix keeps aria props on the root otherwise
    )


def _action_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["subdomain"].to(str)),
        rx.table.cell(row["action"].to(str)),
        rx.table.cell(rx.badge(row["status"].to(str))),
        rx.table.cell(rx.text(row["error"].to(str), size="1", color_scheme="red")),
        rx.table.cell(row["created_at"].to(str)),
        rx.table.cell(
            rx.cond(
                row["status"].to(str) == "parked",
                rx.button(
                    t("Retry"), size="1", on_click=AdminState.retry(row["id"].to(str)), class_name="retry-action"
                ),
            )
        ),
        data_action=row["id"].to(str),
    )


def _event_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["stripe_id"].to(str))),
        rx.table.cell(row["type"].to(str)),
        rx.table.cell(rx.badge(row["status"].to(str))),
        rx.table.cell(row["attempts"].to(str)),
        rx.table.cell(rx.text(row["error"].to(str), size="1")),
        rx.table.cell(row["received_at"].to(str)),
        rx.table.cell(row["processed_at"].to(str)),
        rx.table.cell(
            rx.button(
                t("Replay"),
                size="1",
                variant="soft",
                on_click=AdminState.replay(row["stripe_id"].to(str)),
                class_name="replay-event",
            )
        ),
        data_event=row["stripe_id"].to(str),
    )


def _table(headers: list[str], rows: rx.Var, render, id_: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render)),
        width="100%",
        size="1",
        id=id_,
    )


def _actions_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("Provisioning actions"), size="5"),
            rx.spacer(),
            _filter(
                ["parked", "queued", "running", "retrying", "succeeded", "all"],
                AdminState.action_status,
                AdminState.filter_actions,
                "action-filter",
            ),
            width="100%",
        ),
        _table(
            ["Instance", "Action", "Status", "Error", "Requested", ""], AdminState.actions, _action_row, "actions-table"
        ),
        when_empty(
            AdminState.actions,
            "No provisioning actions with this status. Each sign-up, restart and backup appears here as it runs.",
            "no-actions",
        ),
        width="100%",
        align="start",
    )


def _events_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("Stripe webhook events"), size="5"),
            rx.spacer(),
            _filter(
                ["all", "pending", "processed", "ignored", "failed"],
                AdminState.event_status,
                AdminState.filter_events,
                "event-filter",
            ),
            width="100%",
        ),
        _table(
            ["Event", "Type", "Status", "Attempts", "Error", "Received", "Handled", ""],
            AdminState.events,
            _event_row,
            "events-table",
        ),
        when_empty(
            AdminState.events,
            "No Stripe events with this status. Events arrive here as Stripe sends them to the webhook route.",
            "no-events",
        ),
        rx.hstack(
            rx.button(
                t("Newer"),
                size="1",
                variant="soft",
                on_click=AdminState.events_page(-1),
                disabled=AdminState.event_page <= 1,
            ),
            rx.text(
                t("Page "),
                AdminState.event_page.to(str),
                " · ",
                AdminState.events_total.to(str),
                t(" events"),
                size="2",
            ),
            rx.button(
                t("Older"),
                size="1",
                variant="soft",
                on_click=AdminState.events_page(1),
                disabled=AdminState.event_page * 50 >= AdminState.events_total,
            ),
            align="center",
        ),
        width="100%",
        align="start",
    )


def _integrations() -> rx.Component:
    return rx.hstack(
        rx.foreach(
            AdminState.integrations,
            lambda i: rx.badge(
                i["name"] + ": " + i["state"],
                title=i["detail"],
                variant="surface",
                color_scheme=rx.cond(
                    i["state"] == "healthy", "green", rx.cond(i["state"] == "unreachable", "red", "gray")
                ),
                class_name="integration",
            ),
        ),
        id="integrations",
    )


def _incident(row: rx.Var) -> rx.Component:
    return rx.list_item(
        rx.text(
            rx.text.strong(row["title"].to(str)),
            " (",
            row["kind"].to(str),
            t(", since "),
            row["opened_at"].to(str),
            t(", seen "),
            row["occurrences"].to(str),
            t(" times)"),
        ),
        rx.text(row["detail"].to(str), size="2", color_scheme="gray", white_space="pre-wrap"),
        data_incident=row["id"].to(str),
    )


def _incidents() -> rx.Component:
    """Open incidents in this staff member's part of the tree: each was e-mailed once; it stays here until fixed."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("siren")),
        rx.vstack(
            rx.callout.text(rx.text.strong(t("Needs a look"))),
            rx.unordered_list(rx.foreach(AdminState.incidents, _incident)),
            spacing="1",
        ),
        color_scheme="red",
        role="alert",
        id="incidents",
        width="100%",
    )


def _setup_step(step: rx.Var) -> rx.Component:
    done = step["done"].to(str) != ""
    return rx.hstack(
        rx.cond(
            done,
            rx.icon("circle_check", color="var(--green-9)", size=18, aria_label=t("done")),
            rx.icon("circle", color="var(--gray-8)", size=18, aria_label=t("to do")),
        ),
        rx.vstack(
            rx.text(rx.text.strong(step["title"].to(str))),
            rx.cond(~done, rx.text(step["hint"].to(str), size="2", color_scheme="gray")),
            spacing="0",
            align="start",
        ),
        align="start",
        data_step=step["name"].to(str),
    )


def _payouts() -> rx.Component:
    """A seller's own Stripe account: its status from Stripe, the platform's fee, and the way to (re)connect."""
    view = PayoutsState.view
    return rx.card(
        rx.vstack(
            rx.heading(t("Payouts"), size="4", as_="h2"),
            rx.text(
                t("Status: "),
                rx.badge(view["label"].to(str), id="payouts-status", data_status=view["status"].to(str)),
            ),
            rx.cond(view["reason"].to(str) != "", rx.text(t("Stripe says: "), view["reason"].to(str), size="2")),
            rx.cond(
                view["fee"].to(str) != "", rx.text(t("Platform fee on each payment: "), view["fee"].to(str), size="2")
            ),
            rx.cond(
                view["status"].to(str) != "enabled",
                rx.button(
                    rx.cond(view["connected"].to(bool), t("Continue at Stripe"), t("Connect your Stripe account")),
                    on_click=PayoutsState.connect,
                    id="connect-payouts",
                ),
            ),
            rx.cond(PayoutsState.error != "", rx.text(PayoutsState.error, color_scheme="red", role="alert")),
            spacing="2",
            align="start",
        ),
        id="payouts",
        width="100%",
    )


def _setup_steps() -> rx.Component:
    """A new seller's owner lands here: what to set up next, each step checked off once it is done."""
    return rx.card(
        rx.vstack(
            rx.heading(t("Set up your business"), size="4", as_="h2"),
            rx.foreach(AdminState.setup_steps, _setup_step),
            spacing="3",
            align="start",
        ),
        id="setup-steps",
        width="100%",
    )


@page(
    route="/admin",
    title="Admin console",
    on_load=[AuthState.require_login, ConsoleState.load_console, TeamState.load_team, PayoutsState.load],
)
def admin_console() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("Admin console"), size="7"),
            rx.spacer(),
            rx.cond(
                AdminState.allowed,
                rx.link(rx.button(t("Branding"), variant="soft"), href="/admin/branding", id="to-branding"),
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            AdminState.error != "",
            rx.callout(AdminState.error, icon="shield_alert", color_scheme="red", id="admin-error"),
        ),
        rx.cond(
            AdminState.licence_banner != "",
            rx.callout(
                AdminState.licence_banner,
                icon="triangle_alert",
                color_scheme="amber",
                id="licence-banner",
                width="100%",
            ),
        ),
        rx.cond(AdminState.incidents.length() > 0, _incidents()),
        rx.cond(AdminState.setup_steps.length() > 0, _setup_steps()),
        rx.cond(PayoutsState.shown, _payouts()),
        rx.cond(
            AdminState.allowed,
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger(t("Overview"), value="overview"),
                    rx.tabs.trigger(t("Customers"), value="customers", id="tab-customers"),
                    rx.tabs.trigger(t("Provisioning"), value="provisioning", id="tab-provisioning"),
                    rx.cond(
                        AdminState.is_platform, rx.tabs.trigger(t("Webhooks"), value="webhooks", id="tab-webhooks")
                    ),
                    rx.tabs.trigger(t("People"), value="people", id="tab-people"),
                    rx.cond(
                        TeamState.can_create_sellers,
                        rx.tabs.trigger(t("Resellers"), value="resellers", id="tab-resellers"),
                    ),
                    rx.tabs.trigger(t("Plans"), value="plans", id="tab-plans"),
                    rx.cond(
                        AdminState.is_platform, rx.tabs.trigger(t("Licences"), value="licences", id="tab-licences")
                    ),
                    rx.cond(
                        AdminState.is_platform,
                        rx.tabs.trigger(t("Servers"), value="servers", id="tab-servers", on_click=ServersState.load),
                    ),
                    rx.tabs.trigger(t("Audit log"), value="audit", id="tab-audit"),
                ),
                rx.tabs.content(
                    rx.vstack(
                        rx.cond(AdminState.is_platform, _integrations()),
                        overview_section(),
                        spacing="4",
                        width="100%",
                        padding_top="1rem",
                    ),
                    value="overview",
                ),
                rx.tabs.content(rx.box(customers_section(), padding_top="1rem"), value="customers"),
                rx.tabs.content(rx.box(_actions_section(), padding_top="1rem"), value="provisioning"),
                rx.tabs.content(rx.box(_events_section(), padding_top="1rem"), value="webhooks"),
                rx.tabs.content(rx.box(people_section(), padding_top="1rem"), value="people"),
                rx.tabs.content(rx.box(sellers_section(), padding_top="1rem"), value="resellers"),
                rx.tabs.content(rx.box(plans_section(), padding_top="1rem"), value="plans"),
                rx.tabs.content(rx.box(licences_section(), padding_top="1rem"), value="licences"),
                rx.tabs.content(rx.box(servers_section(), padding_top="1rem"), value="servers"),
                rx.tabs.content(rx.box(audit_section(), padding_top="1rem"), value="audit"),
                default_value="overview",
                width="100%",
            ),
            rx.text(t("You do not have access to the admin console."), id="admin-denied"),
        ),
        spacing="4",
        align="start",
        width="100%",
    )
