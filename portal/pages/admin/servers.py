"""The console's Servers tab: each server of the pool with its load as a bar and the figures beside it, draining
progress, and the form that adds one. Platform staff only."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.empty import when_empty
from portal.components.forms import field, form_error
from portal.components.i18n import t
from portal.state.admin_servers import ServersState as S


def _load_bar(row: rx.Var) -> rx.Component:
    percent = row["load_percent"].to(int)
    return rx.hstack(
        rx.progress(value=percent, max=100, width="6rem", aria_label=t("Load of ") + row["name"].to(str)),
        rx.text(percent.to(str) + "%", size="2"),
        align="center",
    )


def _capacity(used: rx.Var, capacity: rx.Var) -> rx.Component:
    return rx.text(rx.cond(capacity.to(str) != "", used.to(str) + " / " + capacity.to(str), used.to(str)), size="2")


def _row(row: rx.Var) -> rx.Component:
    name, state = row["name"].to(str), row["state"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(name),
        rx.table.cell(row["backend"].to(str)),
        rx.table.cell(
            rx.badge(
                state, color_scheme=rx.match(state, ("active", "green"), ("down", "red"), "amber"), high_contrast=True
            )
        ),
        rx.table.cell(row["region"].to(str)),
        rx.table.cell(_capacity(row["instances"], row["max_instances"])),
        rx.table.cell(_capacity(row["memory_mb"], row["memory_capacity_mb"])),
        rx.table.cell(_load_bar(row)),
        rx.table.cell(
            rx.cond(
                state != "active",
                rx.text(row["moving"].to(str), t(" moving · "), row["parked"].to(str), t(" parked"), size="2"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    state == "active",
                    confirmed(
                        rx.button(t("Drain"), size="1", variant="soft", aria_label=t("Drain ") + name),
                        t("Drain ") + name,
                        "No new instance goes there, and every instance on it moves to another server now: each "
                        "stops for the minute its data takes to copy, then answers from its new server.",
                        "Drain",
                        S.change(name, "drain"),
                        "confirm-drain-" + name,
                    ),
                    rx.button(
                        t("Activate"),
                        size="1",
                        variant="soft",
                        on_click=S.change(name, "activate"),
                        aria_label=t("Take new instances on ") + name,
                    ),
                ),
                rx.cond(
                    state == "down",
                    confirmed(
                        rx.button(
                            t("Start elsewhere"),
                            size="1",
                            color_scheme="orange",
                            aria_label=t("Start the instances of ") + name + t(" elsewhere"),
                        ),
                        t("Start ") + name + t("'s instances elsewhere"),
                        t(
                            "Each instance starts on another server from its last backup: what changed since that "
                            "backup is not there. Its copy on "
                        )
                        + name
                        + t(" stays until the server is back."),
                        "Start elsewhere",
                        S.recover(name),
                        "confirm-recover-" + name,
                    ),
                ),
                rx.cond(
                    row["instances"].to(int) == 0,
                    confirmed(
                        rx.button(
                            t("Remove"), size="1", variant="ghost", color_scheme="red", aria_label=t("Remove ") + name
                        ),
                        t("Remove ") + name,
                        "It leaves the pool now. It holds no instance.",
                        "Remove",
                        S.change(name, "remove"),
                        "confirm-remove-server-" + name,
                    ),
                ),
                spacing="2",
            )
        ),
        data_server=name,
    )


def _add_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading(t("Add a server"), size="3", as_="h3"),
            field("Name", "name", S.errors.get("name", "")),
            rx.el.label(t("Backend"), html_for="server-backend", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
            rx.select(
                ["docker", "coolify"],
                name="backend",
                default_value="docker",
                id="server-backend",
                custom_attrs={"aria-label": t("Backend")},
            ),
            field(
                "Address (unix:///…, tcp://host:2376, ssh://user@host, or the Coolify server's uuid)",
                "address",
                S.errors.get("address", ""),
            ),
            field("Region (optional)", "region", S.errors.get("region", "")),
            field("Memory in MB (empty: learned from the engine)", "memory_mb", S.errors.get("memory_mb", "")),
            field("CPUs (empty: not limited)", "cpus", S.errors.get("cpus", "")),
            field("Most instances (optional)", "max_instances", S.errors.get("max_instances", "")),
            field("Address the edge reaches its ports on", "publish_host", S.errors.get("publish_host", "")),
            rx.button(t("Add server"), type="submit", id="add-server"),
            align="start",
            width="100%",
        ),
        on_submit=S.add,
        reset_on_submit=True,
        key=S.form_key,
        width="100%",
        max_width="32rem",
    )


def servers_section() -> rx.Component:
    return rx.vstack(
        form_error(S.errors.get("", "")),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(h)
                        for h in ("Server", "Backend", "State", "Region", "Instances", "Memory MB", "Load", "Moves", "")
                    )
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            width="100%",
            id="server-list",
        ),
        when_empty(
            S.rows,
            "No servers yet. Add the first Docker engine or Coolify server below; instances are placed on it at once.",
            "no-servers",
        ),
        _add_form(),
        spacing="4",
        width="100%",
    )
