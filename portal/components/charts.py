"""A chart with its numbers: the picture (recharts), the same numbers as a table a screen reader reads, and a CSV
download. Takes one series as `services.admin.trends.Series.to_dict` shapes it: name, title, keys, headings,
rows (numbers per period), table (the same, formatted), kind (bar or line)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from portal.components.i18n import t

PALETTE = [
    "var(--accent-9)",
    "var(--orange-9)",
    "var(--green-9)",
    "var(--purple-9)",
    "var(--cyan-9)",
    "var(--pink-9)",
    "var(--amber-9)",
    "var(--gray-9)",
]


def series_colour(index: rx.Var) -> rx.Var:
    """The colour of a chart's n-th series, the same in every chart of the portal."""
    return rx.Var.create(PALETTE)[index % len(PALETTE)]


def _picture(series: rx.Var) -> rx.Component:
    keys = series["keys"].to(list[str])
    rows = series["rows"].to(list[dict[str, object]])
    axes = (
        rx.recharts.x_axis(data_key="period", tick={"fontSize": 11}),
        rx.recharts.y_axis(tick={"fontSize": 11}, allow_decimals=True),
        rx.recharts.tooltip(),
        rx.recharts.legend(),
    )
    return rx.cond(
        series["kind"].to(str) == "line",
        rx.recharts.line_chart(
            rx.foreach(
                keys,
                lambda k, i: rx.recharts.line(data_key=k, name=k, stroke=series_colour(i), type_="monotone", dot=False),
            ),
            *axes,
            data=rows,
            width="100%",
            height=220,
        ),
        rx.recharts.bar_chart(
            rx.foreach(keys, lambda k, i: rx.recharts.bar(data_key=k, name=k, fill=series_colour(i))),
            *axes,
            data=rows,
            width="100%",
            height=220,
        ),
    )


def _table(series: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(rx.foreach(series["headings"].to(list[str]), lambda h: rx.table.column_header_cell(h)))
        ),
        rx.table.body(
            rx.foreach(
                series["table"].to(list[list[str]]),
                lambda row: rx.table.row(rx.foreach(row, lambda cell: rx.table.cell(cell)), class_name="trend-row"),
            )
        ),
        size="1",
        width="100%",
    )


def trend_chart(series: rx.Var, on_download: Callable[[rx.Var], rx.event.EventSpec]) -> rx.Component:
    name = series["name"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(series["title"].to(str), size="3", as_="h3"),
                rx.spacer(),
                rx.button(
                    rx.icon("download", size=14),
                    "CSV",
                    size="1",
                    variant="soft",
                    on_click=on_download(name),
                    aria_label=t("Download ") + series["title"].to(str) + t(" as CSV"),
                ),
                width="100%",
                align="center",
            ),
            rx.box(
                _picture(series),
                role="img",
                aria_label=series["title"].to(str) + ": the numbers are in the table below.",
                width="100%",
            ),
            rx.el.details(rx.el.summary("The numbers, as a table"), _table(series)),
            width="100%",
            align="start",
        ),
        id="trend-" + name,
        class_name="trend",
        width="100%",
    )
