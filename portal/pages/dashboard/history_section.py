"""The instance's history: uptime over 30 days as a strip of days (the numbers in a table beside it) and the
latest action as a timeline of steps, each with when it started and how long it took (a bar to scale)."""

from __future__ import annotations

import reflex as rx

from portal.components.i18n import t
from portal.state.history import HistoryState

H = HistoryState.history
DAY_COLOURS = {"up": "var(--green-9)", "degraded": "var(--amber-9)", "down": "var(--red-9)", "none": "var(--gray-6)"}


def _day(mark: rx.Var) -> rx.Component:
    return rx.box(
        title=mark["label"].to(str),
        background=rx.match(mark["state"].to(str), *DAY_COLOURS.items(), DAY_COLOURS["none"]),
        width="100%",
        height="28px",
        border_radius="2px",
        class_name="uptime-day",
        custom_attrs={"data-state": mark["state"].to(str)},
    )


def _legend() -> rx.Component:
    return rx.hstack(
        *[
            rx.hstack(
                rx.box(width="10px", height="10px", background=DAY_COLOURS[state], border_radius="2px"),
                rx.text(t(label), size="1"),
                align="center",
                spacing="1",
            )
            for state, label in (
                ("up", "Up"),
                ("degraded", "Down part of the day"),
                ("down", "Down"),
                ("none", "No checks"),
            )
        ],
        spacing="3",
        wrap="wrap",
    )


def _uptime() -> rx.Component:
    marks = H["uptime"].to(list[dict[str, str]])
    return rx.vstack(
        rx.hstack(
            rx.heading(t("Uptime, last 30 days"), size="3", as_="h3"),
            rx.cond(
                H["uptime_percent"].to(str) != "",
                rx.badge(H["uptime_percent"].to(str), color_scheme="green", high_contrast=True, id="uptime-percent"),
                rx.text(t("No checks yet: the portal checks your instance every minute."), size="2"),
            ),
            align="center",
        ),
        rx.grid(
            rx.foreach(marks, _day),
            columns="30",
            spacing="1",
            width="100%",
            role="img",
            aria_label=t("Uptime over the last 30 days: ")
            + H["uptime_percent"].to(str)
            + t(". The days are in the table below."),
            id="uptime-strip",
        ),
        _legend(),
        rx.el.details(
            rx.el.summary(t("Uptime per day, as a table")),
            rx.table.root(
                rx.table.header(
                    rx.table.row(rx.table.column_header_cell(t("Day")), rx.table.column_header_cell(t("Uptime")))
                ),
                rx.table.body(
                    rx.foreach(
                        marks,
                        lambda m: rx.table.row(
                            rx.table.cell(m["day"].to(str)), rx.table.cell(m["label"].to(str)), class_name="uptime-row"
                        ),
                    )
                ),
                size="1",
                id="uptime-table",
            ),
        ),
        width="100%",
        align="start",
    )


def _step(item: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(item["started"].to(str), size="1", font_family="monospace", min_width="5.5em"),
            rx.vstack(
                rx.hstack(
                    rx.text(item["step"].to(str), size="2", weight="medium"),
                    rx.badge(item["status"].to(str), variant="surface", high_contrast=True),
                    rx.text(item["took"].to(str), size="1"),
                    align="center",
                    wrap="wrap",
                ),
                rx.box(
                    width=item["width"].to(str),
                    height="6px",
                    border_radius="3px",
                    background=rx.cond(item["status"].to(str) == "failed", "var(--red-9)", "var(--accent-9)"),
                    aria_hidden="true",
                ),
                spacing="1",
                width="100%",
            ),
            width="100%",
        ),
        class_name="timeline-step",
        style={"listStyle": "none", "width": "100%"},
    )


def _timeline() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Latest action"), size="3", as_="h3"),
        rx.cond(
            H["action"].to(str) != "",
            rx.vstack(
                rx.text(
                    rx.text.strong(H["action"].to(str), id="timeline-action"),
                    " · requested ",
                    H["action_when"].to(str),
                    " · ",
                    H["action_status"].to(str),
                    size="2",
                ),
                rx.el.ol(
                    rx.foreach(H["steps"].to(list[dict[str, str]]), _step),
                    id="timeline",
                    style={"width": "100%", "padding": 0, "margin": 0},
                ),
                width="100%",
                align="start",
            ),
            rx.text(t("Nothing has been done to your instance yet."), size="2"),
        ),
        width="100%",
        align="start",
    )


def history_section() -> rx.Component:
    return rx.cond(
        H["uptime"].to(list[dict[str, str]]).length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(t("History"), size="4", as_="h2"),
                    rx.spacer(),
                    rx.button(t("Refresh"), size="1", variant="soft", on_click=HistoryState.load, id="history-refresh"),
                    width="100%",
                    align="center",
                ),
                _uptime(),
                rx.separator(),
                _timeline(),
                spacing="4",
                width="100%",
            ),
            width="100%",
            id="history",
        ),
    )
