"""/billing: the customer's plan, what a cancellation or a downgrade would do and when (said before it is
confirmed), the upcoming invoice, and every invoice with its page and PDF."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.forms import form_error
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.billing_page import BillingState as B

V = B.view


def _text(name: str) -> rx.Var[str]:
    return V[name].to(str)


def _flag(name: str) -> rx.Var[bool]:
    return V[name].to(bool)


def _cancellation() -> rx.Component:
    return rx.cond(
        _flag("cancel_scheduled"),
        rx.callout(
            rx.vstack(
                rx.text(t("Cancelled: your subscription ends on "), _text("period_end"), "."),
                confirmed(
                    rx.button(t("Keep my subscription"), variant="soft", id="resume-subscription"),
                    "Keep your subscription",
                    _text("resume_effect"),
                    "Keep it",
                    B.resume,
                    "confirm-resume-subscription",
                ),
            ),
            icon="calendar_x",
            color_scheme="orange",
            id="cancel-scheduled",
            width="100%",
        ),
        confirmed(
            rx.button(t("Cancel subscription"), variant="outline", color_scheme="red", id="cancel-subscription"),
            "Cancel your subscription",
            _text("cancel_effect"),
            "Cancel at period end",
            B.cancel,
            "confirm-cancel-subscription",
        ),
    )


def _downgrades() -> rx.Component:
    options = V["downgrade_options"].to(list[dict[str, str]])
    return rx.vstack(
        rx.cond(
            _text("downgrade_to") != "",
            rx.callout(
                rx.vstack(
                    rx.text(_text("downgrade_effect")),
                    rx.button(
                        t("Keep my current plan"), variant="soft", on_click=B.undo_downgrade, id="undo-downgrade"
                    ),
                ),
                icon="arrow_down",
                color_scheme="blue",
                id="downgrade-scheduled",
                width="100%",
            ),
        ),
        rx.cond(
            (options.length() > 0) & (_text("downgrade_to") == ""),
            rx.vstack(
                rx.heading(t("Move to a cheaper plan"), size="3", as_="h3"),
                rx.foreach(
                    options,
                    lambda option: confirmed(
                        rx.button(
                            t("Move to ") + option["name"] + " · " + option["price"],
                            variant="outline",
                            id="downgrade-" + option["slug"],
                        ),
                        "Move to a cheaper plan",
                        option["effect"],
                        "Move at period end",
                        B.downgrade(option["slug"]),
                        "confirm-downgrade-" + option["slug"],
                    ),
                ),
                align="start",
            ),
        ),
        align="start",
        width="100%",
    )


def _delete_free() -> rx.Component:
    return rx.cond(
        _flag("can_delete"),
        confirmed(
            rx.button(t("Delete instance"), variant="outline", color_scheme="red", id="delete-instance"),
            "Delete your instance",
            _text("delete_effect"),
            "Delete it",
            B.delete_instance,
            "confirm-delete-instance",
            rx.vstack(
                rx.el.label(
                    t("Type the instance's name, "), _text("subdomain"), ", to confirm", html_for="confirm-name"
                ),
                rx.input(value=B.confirm_subdomain, on_change=B.set_confirm_subdomain, id="confirm-name"),
                margin_top="1rem",
            ),
        ),
    )


def _plan() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Your plan"), size="4", as_="h2"),
            rx.text(rx.text.strong(_text("plan_name"), id="billing-plan"), " · ", _text("plan_price")),
            rx.text(t("Status: "), rx.badge(_text("status"), id="billing-status")),
            rx.cond(_text("upcoming") != "", rx.text(t("Next invoice: "), _text("upcoming"), id="upcoming-invoice")),
            rx.cond(_flag("paid"), rx.vstack(_cancellation(), _downgrades(), align="start", width="100%")),
            _delete_free(),
            rx.cond(
                B.errors.get("plan", "") != "",
                rx.text(B.errors.get("plan", ""), color_scheme="red", role="alert", id="plan-error"),
            ),
            rx.cond(
                B.errors.get("confirm", "") != "",
                rx.text(B.errors.get("confirm", ""), color_scheme="red", role="alert", id="confirm-error"),
            ),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def _invoice_row(row: rx.Var) -> rx.Component:
    number = row["number"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(row["date"].to(str)),
        rx.table.cell(number),
        rx.table.cell(row["amount"].to(str)),
        rx.table.cell(rx.badge(row["status_label"].to(str))),
        rx.table.cell(
            rx.hstack(
                _invoice_link("View", row["view_url"].to(str), t("View invoice ") + number),
                _invoice_link("PDF", row["pdf_url"].to(str), t("PDF of invoice ") + number),
            )
        ),
    )


def _invoice_link(label: str, url: rx.Var[str], name: rx.Var[str]) -> rx.Component:
    return rx.cond(url != "", rx.link(label, href=url, is_external=True, aria_label=name))


def _invoices() -> rx.Component:
    rows = V["invoices"].to(list[dict[str, str]])
    return rx.card(
        rx.vstack(
            rx.heading(t("Invoices"), size="4", as_="h2"),
            rx.cond(
                rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *(rx.table.column_header_cell(h) for h in ("Date", "Number", "Amount", "Status", "Invoice"))
                        )
                    ),
                    rx.table.body(rx.foreach(rows, _invoice_row)),
                    width="100%",
                    id="invoices",
                ),
                rx.text(t("No invoices yet."), color_scheme="gray", id="no-invoices"),
            ),
            align="start",
            width="100%",
        ),
        width="100%",
    )


@page(route="/billing", title="Billing", on_load=[AuthState.require_login, B.load])
def billing() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(t("Billing"), size="7"), rx.link(t("Back to the dashboard"), href="/dashboard")),
        form_error(B.errors.get("", "")),
        rx.cond(B.loaded, rx.vstack(_plan(), _invoices(), width="100%", spacing="4"), rx.spinner()),
        spacing="4",
        width="100%",
        max_width="56rem",
    )
