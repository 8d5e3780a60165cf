"""Console sections: overview figures, the customers table with its detail panel, and the audit log."""

from __future__ import annotations

import reflex as rx

from portal.components.charts import trend_chart
from portal.components.empty import when_empty
from portal.components.i18n import t
from portal.state.admin_customers import ConsoleState as C
from services.admin.branding import ACCENTS, GRAYS, RADII

ACCENT_CHOICES, GRAY_CHOICES, RADIUS_CHOICES = list(ACCENTS), list(GRAYS), list(RADII)


def _figure(label: str, value: rx.Var, id_: str) -> rx.Component:
    return rx.card(
        rx.vstack(rx.text(t(label), size="1", color_scheme="gray"), rx.heading(value, size="6", id=id_), spacing="1"),
        min_width="10rem",
    )


def overview_section() -> rx.Component:
    o = C.overview
    return rx.vstack(
        rx.flex(
            _figure("Customers", o["customers"].to(str), "overview-customers"),
            _figure("Active subscriptions", o["active_subscriptions"].to(str), "overview-subscriptions"),
            _figure("Monthly recurring revenue", o["mrr"].to(str), "overview-mrr"),
            _figure("Parked provisioning actions", o["parked_actions"].to(str), "overview-parked"),
            rx.cond(
                C.is_platform,
                _figure(
                    "Webhook events waiting / failed",
                    o["webhooks_waiting"].to(str) + " / " + o["webhooks_failed"].to(str),
                    "overview-webhooks",
                ),
            ),
            wrap="wrap",
            spacing="3",
        ),
        rx.hstack(
            rx.text(t("Instances:"), size="2"),
            rx.foreach(
                o["instances_by_status"].to(list[dict[str, str]]),
                lambda s: rx.badge(s["status"].to(str) + ": " + s["count"].to(str), variant="surface"),
            ),
            wrap="wrap",
        ),
        rx.grid(
            rx.foreach(C.charts, lambda series: trend_chart(series, C.download_trend)),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
            id="trends",
        ),
        width="100%",
        align="start",
    )


def _instance_buttons(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["instance_id"].to(str) != "",
        rx.hstack(
            *[
                rx.button(
                    label,
                    size="1",
                    variant="soft",
                    class_name=f"admin-{action}",
                    on_click=C.instance_action(row["instance_id"].to(str), action),
                )
                for label, action in (
                    ("Restart", "restart"),
                    ("Stop", "stop"),
                    ("Start", "start"),
                    ("Redeploy", "redeploy"),
                )
            ],
            spacing="1",
        ),
    )


def _customer_row(row: rx.Var) -> rx.Component:
    instance_id = row["instance_id"].to(str)
    return rx.table.row(
        rx.table.cell(
            rx.cond(
                instance_id != "",
                rx.checkbox(
                    checked=C.selected.contains(instance_id),
                    class_name="select-instance",
                    on_change=lambda checked: C.toggle_selected(instance_id, checked),
                    aria_label=t("Select this instance"),
                ),
            )
        ),
        rx.table.cell(
            rx.link(
                row["name"].to(str), on_click=C.open_customer(row["id"].to(str)), href="#", class_name="open-customer"
            )
        ),
        rx.table.cell(row["email"].to(str)),
        rx.table.cell(row["plan"].to(str)),
        rx.table.cell(rx.badge(row["subscription"].to(str))),
        rx.table.cell(rx.badge(row["instance"].to(str), variant="outline", class_name="instance-state")),
        rx.table.cell(row["created_at"].to(str)),
        rx.table.cell(_instance_buttons(row)),
        data_customer=row["slug"].to(str),
    )


def _detail() -> rx.Component:
    d = C.detail
    return rx.cond(
        d.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading(d["name"].to(str), size="4", id="customer-detail-name"),
                rx.text(t("Sold by "), d["seller"].to(str), size="2"),
                rx.vstack(
                    rx.foreach(
                        d["users"].to(list[dict[str, str]]),
                        lambda u: rx.hstack(
                            rx.badge(u["email"] + " (" + u["role"] + ")"),
                            rx.button(
                                t("Impersonate"),
                                size="1",
                                variant="outline",
                                color_scheme="orange",
                                on_click=C.impersonate(u["id"]),
                                class_name="impersonate-user",
                            ),
                            align="center",
                        ),
                    ),
                    spacing="1",
                ),
                rx.text(
                    t("Subscription: "),
                    d["subscription"].to(dict[str, str])["status"].to(str),
                    t(" · until "),
                    d["subscription"].to(dict[str, str])["period_end"].to(str),
                    size="2",
                ),
                rx.text(
                    t("Instance: "),
                    d["instance"].to(dict[str, str])["subdomain"].to(str),
                    " · ",
                    d["instance"].to(dict[str, str])["status"].to(str),
                    size="2",
                ),
                rx.hstack(
                    rx.button(
                        t("Show logs"),
                        size="1",
                        variant="outline",
                        on_click=C.show_logs(d["instance"].to(dict[str, str])["id"].to(str)),
                        id="admin-show-logs",
                    ),
                    rx.button(
                        t("Check health"),
                        size="1",
                        variant="outline",
                        on_click=C.check_health(d["instance"].to(dict[str, str])["id"].to(str)),
                        id="admin-health",
                    ),
                    rx.cond(
                        C.health.length() > 0,
                        rx.text(
                            C.health["observed"],
                            t(" · healthy: "),
                            C.health["healthy"],
                            t(" · CPU "),
                            C.health["cpu"],
                            t(" · memory "),
                            C.health["memory"],
                            size="2",
                            id="admin-health-result",
                        ),
                    ),
                ),
                rx.text(
                    t("Usage this period: "),
                    d["budget"].to(dict[str, str])["used"].to(str),
                    t(" of "),
                    d["budget"].to(dict[str, str])["total"].to(str),
                    size="2",
                    id="customer-usage",
                ),
                rx.text(
                    t("AI gateway key: "),
                    d["ai_gateway"].to(dict[str, str])["key"].to(str),
                    " · ",
                    d["ai_gateway"].to(dict[str, str])["state"].to(str),
                    " ",
                    d["ai_gateway"].to(dict[str, str])["reason"].to(str),
                    t(" · models: "),
                    d["ai_gateway"].to(dict[str, str])["models"].to(str),
                    size="2",
                    id="customer-ai-gateway",
                ),
                rx.foreach(
                    d["usage"].to(list[dict[str, str]]),
                    lambda u: rx.text(u["model"] + ": " + u["cost"] + " (" + u["records"] + t(" records)"), size="1"),
                ),
                rx.cond(
                    C.logs != "",
                    rx.code_block(
                        C.logs, language="log", max_height="14rem", overflow="auto", width="100%", id="admin-logs"
                    ),
                ),
                rx.text(t("Provisioning history"), weight="medium", size="2"),
                rx.foreach(
                    d["actions"].to(list[dict[str, str]]),
                    lambda a: rx.text(a["at"] + " " + a["action"] + " " + a["status"] + " " + a["error"], size="1"),
                ),
                rx.text(t("Audit trail"), weight="medium", size="2"),
                rx.foreach(
                    d["audit"].to(list[dict[str, str]]),
                    lambda e: rx.text(e["at"] + " " + e["actor"] + " " + e["action"], size="1"),
                ),
                align="start",
                width="100%",
            ),
            width="100%",
            id="customer-detail",
        ),
    )


def customers_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.input(
                placeholder=t("Search name, subdomain or e-mail"),
                value=C.search,
                on_change=C.set_search,
                debounce_timeout=300,
                id="customer-search",
                width="20rem",
            ),
            rx.select(
                ["all", "active", "trialing", "past_due", "unpaid", "canceled", "incomplete"],
                value=rx.cond(C.status_filter == "", "all", C.status_filter),
                on_change=C.set_status_filter,
                size="2",
                id="customer-status",
                custom_attrs={"aria-label": t("Subscription status")},
            ),
            rx.input(
                placeholder=t("Plan (slug)"),
                value=C.plan_filter,
                on_change=C.set_plan_filter,
                debounce_timeout=300,
                id="customer-plan",
                width="10rem",
            ),
            rx.spacer(),
            rx.text(C.customers_total.to(str), t(" customers"), size="2", id="customers-total"),
            width="100%",
            align="center",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("", "Customer", "Owner", "Plan", "Subscription", "Instance", "Since", "")
                    ]
                )
            ),
            rx.table.body(rx.foreach(C.customers, _customer_row)),
            width="100%",
            size="1",
            id="customers-table",
        ),
        when_empty(
            C.customers,
            "No customers match. Clear the search and filters, or share your pricing page to get the first one.",
            "no-customers",
        ),
        rx.cond(
            C.selected.length() > 0,
            rx.hstack(
                rx.text(C.selected.length().to(str), t(" selected:"), size="2"),
                *[
                    rx.button(label, size="1", variant="soft", on_click=C.bulk(action), id=f"bulk-{action}")
                    for label, action in (("Restart", "restart"), ("Stop", "stop"), ("Start", "start"))
                ],
                align="center",
                id="bulk-actions",
            ),
        ),
        rx.hstack(
            rx.button(t("Previous"), size="1", variant="soft", on_click=C.turn(-1), disabled=C.page <= 1),
            rx.text(t("Page "), C.page.to(str), size="2"),
            rx.button(
                t("Next"), size="1", variant="soft", on_click=C.turn(1), disabled=C.page * 25 >= C.customers_total
            ),
            align="center",
        ),
        _detail(),
        width="100%",
        align="start",
    )


def audit_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.input(
                placeholder=t("Action starts with… (e.g. account.login)"),
                value=C.audit_action,
                on_change=C.set_audit_action,
                debounce_timeout=300,
                id="audit-filter",
                width="20rem",
            ),
            rx.text(C.audit_total.to(str), t(" events"), size="2"),
            align="center",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("Time", "Actor", "Action", "Target", "IP", "Details")]
                )
            ),
            rx.table.body(
                rx.foreach(
                    C.audit,
                    lambda e: rx.table.row(
                        rx.table.cell(e["at"].to(str)),
                        rx.table.cell(e["actor"].to(str)),
                        rx.table.cell(e["action"].to(str)),
                        rx.table.cell(e["target"].to(str)),
                        rx.table.cell(e["ip"].to(str)),
                        rx.table.cell(rx.text(e["details"].to(str), size="1")),
                        class_name="audit-row",
                    ),
                )
            ),
            width="100%",
            size="1",
            id="audit-table",
        ),
        when_empty(
            C.audit,
            "Nothing recorded for this filter. Every sign-in, change and refusal in your organization appears here.",
            "no-audit",
        ),
        width="100%",
        align="start",
    )
