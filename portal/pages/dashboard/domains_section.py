"""The customer's own domains for their instance: the records to create, each domain's status step by step."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.components.forms import label_for
from portal.components.i18n import t
from portal.state.domains import DomainsState

BADGE_COLOURS = {
    "serving": "green",
    "certificate": "green",
    "verified": "blue",
    "waiting_dns": "gray",
    "wrong_records": "orange",
    "failing": "orange",
    "failed": "red",
}


def _badge(domain: rx.Var[dict[str, Any]]) -> rx.Component:
    status = domain["status"].to(str)
    return rx.match(
        status,
        *[
            (value, rx.badge(domain["status_label"].to(str), color_scheme=colour))
            for value, colour in BADGE_COLOURS.items()
        ],
        rx.badge(domain["status_label"].to(str)),
    )


def _records(domain: rx.Var[dict[str, Any]]) -> rx.Component:
    records = domain["records"].to(list[dict[str, str]])
    return rx.cond(
        records.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(t("Type")),
                    rx.table.column_header_cell(t("Name")),
                    rx.table.column_header_cell(t("Value")),
                )
            ),
            rx.table.body(
                rx.foreach(
                    records,
                    lambda r: rx.table.row(
                        rx.table.cell(r["type"]),
                        rx.table.cell(rx.code(r["name"])),
                        rx.table.cell(rx.code(r["value"])),
                    ),
                )
            ),
            size="1",
            variant="surface",
            aria_label=t("DNS records to create"),
        ),
    )


def _domain(domain: rx.Var[dict[str, Any]]) -> rx.Component:
    hostname = domain["hostname"].to(str)
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.text(hostname, weight="bold", class_name="domain-hostname"),
                _badge(domain),
                rx.spacer(),
                rx.button(
                    t("Check now"),
                    size="1",
                    variant="soft",
                    on_click=DomainsState.check_now(domain["id"].to(int)),
                    aria_label=t("Check ") + hostname + t(" now"),
                ),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button(
                            t("Remove"),
                            size="1",
                            variant="outline",
                            color_scheme="red",
                            aria_label=t("Remove ") + hostname,
                        )
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title(t("Remove ") + hostname + "?"),
                        rx.alert_dialog.description(
                            t("Your instance stops answering on it at once. You can add it again later.")
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button(t("Keep it"), variant="soft")),
                            rx.alert_dialog.action(
                                rx.button(
                                    t("Remove"),
                                    color_scheme="red",
                                    on_click=DomainsState.remove(domain["id"].to(int)),
                                )
                            ),
                            justify="end",
                            spacing="3",
                        ),
                    ),
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                domain["message"].to(str) != "",
                rx.text(domain["message"].to(str), size="2", class_name="domain-message"),
            ),
            rx.cond(
                domain["url"].to(str) != "",
                rx.link(domain["url"].to(str), href=domain["url"].to(str), is_external=True, size="2"),
            ),
            _records(domain),
            spacing="2",
            width="100%",
            align="start",
        ),
        class_name="custom-domain",
        width="100%",
        role="status",
        aria_live="polite",
    )


def domains_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Custom domains"), size="4"),
            rx.foreach(DomainsState.domains, _domain),
            rx.cond(
                DomainsState.may_add,
                rx.form(
                    rx.vstack(
                        label_for("Domain", "domain-hostname"),
                        rx.hstack(
                            rx.input(
                                id="domain-hostname",
                                name="hostname",
                                placeholder=t("app.example.org"),
                                width="100%",
                            ),
                            rx.button(t("Add domain"), type="submit", id="domain-add"),
                            width="100%",
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    on_submit=DomainsState.add,
                    reset_on_submit=True,
                    width="100%",
                ),
                rx.cond(
                    DomainsState.domains.length() == 0,
                    rx.text(t("Your plan does not include custom domains."), size="2", id="domains-not-in-plan"),
                ),
            ),
            rx.cond(
                DomainsState.errors.get("hostname", "") != "",
                rx.text(DomainsState.errors.get("hostname", ""), color_scheme="red", size="2", id="domain-error"),
            ),
            rx.cond(
                DomainsState.errors.get("", "") != "",
                rx.text(DomainsState.errors.get("", ""), color_scheme="red", size="2", role="alert"),
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        width="100%",
        id="domains-card",
    )
