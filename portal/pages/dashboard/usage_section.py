"""Usage: cost and tokens per day for the last 30 days split by model, totals per model, recent records, CSV."""

from __future__ import annotations

import reflex as rx

from portal.components.charts import series_colour
from portal.components.i18n import t
from portal.state.dashboard import DashboardState
from portal.state.usage import UsageState

V = DashboardState.view


def _chart(title: str, series_key: str, chart_id: str) -> rx.Component:
    def bar(model: rx.Var, index: rx.Var) -> rx.Component:
        return rx.recharts.bar(
            data_key=model.to(str),
            stack_id="day",
            name=model.to(str),
            fill=series_colour(index),
        )

    return rx.vstack(
        rx.text(title, weight="medium", size="2"),
        rx.recharts.bar_chart(
            rx.foreach(V["usage_models"].to(list[str]), bar),
            rx.recharts.x_axis(data_key="day", tick={"fontSize": 11}),
            rx.recharts.y_axis(tick={"fontSize": 11}),
            rx.recharts.tooltip(),
            rx.recharts.legend(),
            data=V[series_key].to(list[dict[str, object]]),
            width="100%",
            height=220,
        ),
        id=chart_id,
        width="100%",
    )


def _totals() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[rx.table.column_header_cell(t(h)) for h in ("Model", "Tokens in", "Tokens out", "Records", "Cost")]
            )
        ),
        rx.table.body(
            rx.foreach(
                V["usage_totals"].to(list[dict[str, str]]),
                lambda total: rx.table.row(
                    rx.table.cell(total["model"]),
                    rx.table.cell(total["tokens_in"]),
                    rx.table.cell(total["tokens_out"]),
                    rx.table.cell(total["records"]),
                    rx.table.cell(total["cost"]),
                    class_name="usage-total",
                ),
            )
        ),
        id="usage-totals",
        size="1",
        width="100%",
    )


def _records() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(t(h))
                        for h in ("Time (UTC)", "Model", "Tokens in", "Tokens out", "Cost")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    UsageState.records,
                    lambda r: rx.table.row(
                        rx.table.cell(r["occurred_at"]),
                        rx.table.cell(r["model"]),
                        rx.table.cell(r["tokens_in"]),
                        rx.table.cell(r["tokens_out"]),
                        rx.table.cell(r["cost"]),
                        class_name="usage-record",
                    ),
                )
            ),
            id="usage-records",
            size="1",
            width="100%",
        ),
        rx.hstack(
            rx.button(
                t("Newer"),
                size="1",
                variant="soft",
                disabled=UsageState.page <= 1,
                on_click=UsageState.turn(-1),
                id="usage-newer",
            ),
            rx.text(t("Page "), UsageState.page, size="2", id="usage-page"),
            rx.button(
                t("Older"),
                size="1",
                variant="soft",
                disabled=~UsageState.has_more,
                on_click=UsageState.turn(1),
                id="usage-older",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=14),
                "Export CSV",
                size="1",
                variant="outline",
                on_click=UsageState.export_csv,
                id="usage-export",
            ),
            width="100%",
            align="center",
        ),
        rx.cond(UsageState.error != "", rx.text(UsageState.error, color_scheme="red", size="2")),
        width="100%",
    )


def usage_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Usage"), size="4"),
            rx.cond(
                V["usage_models"].to(list[str]).length() > 0,
                rx.grid(
                    _chart("Cost per day", "usage_cost_series", "cost-chart"),
                    _chart("Tokens per day", "usage_token_series", "token-chart"),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.text(t("No usage in the last 30 days yet."), color_scheme="gray", size="2", id="no-usage"),
            ),
            rx.text(t("This period, per model"), weight="medium", size="2"),
            _totals(),
            rx.hstack(
                rx.text(t("Recent records"), weight="medium", size="2"),
                rx.text(t("as of "), UsageState.as_of, size="1", color_scheme="gray"),
                align="baseline",
            ),
            _records(),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
    )
