"""/developers: API tokens (shown once) and webhook endpoints with their delivery log, for owners and admins of
the signed-in person's own organization (a seller's staff, or a customer)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.empty import when_empty
from portal.components.forms import form_error, label_for
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.developers import DevelopersState as D


def _shown_once(value: rx.Var[str], what: str, element_id: str) -> rx.Component:
    return rx.cond(
        value != "",
        rx.callout(
            rx.vstack(
                rx.text(f"Your new {what}. Copy it now: it is not shown again."),
                rx.code(value, id=element_id, word_break="break-all"),
                spacing="1",
            ),
            icon="key_round",
            color_scheme="green",
            role="status",
            width="100%",
        ),
    )


def _checkboxes(values: rx.Var[list[str]], prefix: str, legend: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        rx.flex(
            rx.foreach(values, lambda v: rx.checkbox(v, name=prefix + v, default_checked=False)),
            wrap="wrap",
            spacing="3",
        ),
        border="none",
        padding="0",
        margin="0",
    )


def _tokens() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("API tokens"), size="5"),
            rx.text(
                t("A token acts for you in "),
                rx.text.strong(D.organization),
                t(", limited to the scopes you give it. Send it as Authorization: Bearer <token>; see "),
                rx.link(t("the API documentation"), href="/api/v1/docs", is_external=True, underline="always"),
                ".",
                size="2",
            ),
            _shown_once(D.new_token, "token", "new-token"),
            rx.form(
                rx.vstack(
                    label_for("Name", "token-name"),
                    rx.input(id="token-name", name="name", placeholder=t("shop integration"), width="100%"),
                    _checkboxes(D.scopes, "scope-", "Scopes"),
                    label_for("Expires after (days, empty: never)", "token-expiry"),
                    rx.input(id="token-expiry", name="expires_days", type="number", min="1", max="3650"),
                    rx.button(t("Create token"), type="submit", id="create-token"),
                    spacing="2",
                    width="100%",
                    align="start",
                ),
                on_submit=D.create_token,
                reset_on_submit=True,
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Name", "Starts with", "Scopes", "Last used", "")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        D.tokens,
                        lambda tok: rx.table.row(
                            rx.table.cell(tok["name"]),
                            rx.table.cell(rx.code(tok["prefix"])),
                            rx.table.cell(tok["scopes"], size="1"),
                            rx.table.cell(tok["last_used"]),
                            rx.table.cell(
                                rx.cond(
                                    tok["state"] == "live",
                                    confirmed(
                                        rx.button(
                                            t("Revoke"),
                                            size="1",
                                            color_scheme="red",
                                            variant="soft",
                                            aria_label=t("Revoke ") + tok["name"],
                                        ),
                                        "Revoke this token",
                                        t("Revoke ")
                                        + tok["name"].to(str)
                                        + t("? Every call made with it is refused from now on. This cannot be undone."),
                                        "Revoke",
                                        D.revoke_token(tok["id"]),
                                        "confirm-revoke-token",
                                    ),
                                    rx.text(tok["state"], size="1"),
                                )
                            ),
                        ),
                    )
                ),
                width="100%",
                id="tokens",
            ),
            when_empty(
                D.tokens,
                "No API tokens yet. Create one above to call the platform API from your own scripts.",
                "no-tokens",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _endpoint_row(e: rx.Var[dict[str, Any]]) -> rx.Component:
    endpoint_id = e["id"].to(str)
    url = e["url"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(url)),
        rx.table.cell(e["event_types"].to(str), size="1"),
        rx.table.cell(rx.cond(e["enabled"].to(bool), "on", rx.text(t("off: "), e["disabled_reason"].to(str)))),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    t("Log"),
                    size="1",
                    variant="soft",
                    on_click=D.show_deliveries(endpoint_id),
                    aria_label=t("Delivery log of ") + url,
                ),
                rx.button(
                    rx.cond(e["enabled"].to(bool), t("Disable"), t("Enable")),
                    size="1",
                    variant="outline",
                    on_click=D.toggle_endpoint(endpoint_id, ~e["enabled"].to(bool)),
                    aria_label=t("Turn on or off ") + url,
                ),
                confirmed(
                    rx.button(
                        t("New secret"), size="1", variant="outline", aria_label=t("New signing secret for ") + url
                    ),
                    "New signing secret",
                    t("Make a new signing secret for ")
                    + url
                    + t(
                        "? Deliveries are signed with it from now on; the current secret is accepted beside it for "
                        "24 hours, time to update your receiver."
                    ),
                    "Make a new secret",
                    D.rotate_secret(endpoint_id),
                    "confirm-rotate-secret",
                ),
                confirmed(
                    rx.button(t("Delete"), size="1", color_scheme="red", variant="soft", aria_label=t("Delete ") + url),
                    "Delete this endpoint",
                    t("Delete ")
                    + url
                    + t(
                        "? No event is sent to it from now on, including those still waiting to be delivered. "
                        "This cannot be undone."
                    ),
                    "Delete",
                    D.delete_endpoint(endpoint_id),
                    "confirm-delete-endpoint",
                ),
                wrap="wrap",
            )
        ),
    )


def _endpoints() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Webhooks"), size="5"),
            rx.text(
                t(
                    "We POST each event you choose to your URL, signed per Standard Webhooks (webhook-id, "
                    "webhook-timestamp, webhook-signature); failed deliveries are retried for about three days."
                ),
                size="2",
            ),
            _shown_once(D.new_secret, "signing secret", "new-secret"),
            rx.form(
                rx.vstack(
                    label_for("URL", "endpoint-url"),
                    rx.input(id="endpoint-url", name="url", placeholder="https://shop.example.com/hooks", width="100%"),
                    _checkboxes(D.event_types, "event-", "Events"),
                    rx.button(t("Add endpoint"), type="submit", id="add-endpoint"),
                    spacing="2",
                    width="100%",
                    align="start",
                ),
                on_submit=D.create_endpoint,
                reset_on_submit=True,
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("URL", "Events", "State", "")])
                ),
                rx.table.body(rx.foreach(D.endpoints, _endpoint_row)),
                width="100%",
                id="endpoints",
            ),
            when_empty(
                D.endpoints,
                "No webhook endpoints yet. Add a URL above to be told when your instance changes.",
                "no-endpoints",
            ),
            rx.cond(D.deliveries_of != "", _deliveries()),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _deliveries() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Delivery log"), size="3"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("Event", "Type", "Status", "Tries", "Answer", "")]
                )
            ),
            rx.table.body(
                rx.foreach(
                    D.deliveries,
                    lambda d: rx.table.row(
                        rx.table.cell(rx.code(d["event_id"])),
                        rx.table.cell(d["event_type"]),
                        rx.table.cell(d["status"]),
                        rx.table.cell(d["attempts"]),
                        rx.table.cell(d["last_status_code"], " ", d["last_error"], size="1"),
                        rx.table.cell(
                            rx.button(
                                t("Send again"),
                                size="1",
                                variant="soft",
                                on_click=D.replay(d["id"]),
                                aria_label=t("Send event ") + d["event_id"] + t(" again"),
                            )
                        ),
                    ),
                )
            ),
            width="100%",
            id="deliveries",
        ),
        width="100%",
    )


@page(route="/developers", title="API and webhooks", on_load=[AuthState.require_login, D.load])
def developers() -> rx.Component:
    return rx.vstack(
        rx.heading(t("API and webhooks"), size="7"),
        form_error(D.errors.get("", "")),
        rx.cond(
            D.errors.get("scopes", "") != "",
            rx.text(D.errors.get("scopes", ""), color_scheme="red", role="alert"),
        ),
        rx.cond(D.errors.get("name", "") != "", rx.text(D.errors.get("name", ""), color_scheme="red", role="alert")),
        rx.cond(D.errors.get("url", "") != "", rx.text(D.errors.get("url", ""), color_scheme="red", role="alert")),
        rx.cond(
            D.errors.get("event_types", "") != "",
            rx.text(D.errors.get("event_types", ""), color_scheme="red", role="alert"),
        ),
        _tokens(),
        _endpoints(),
        spacing="5",
        width="100%",
        align="start",
    )
