"""/invitations (signed in: accept or decline as yourself) and /invitation (a new person's link)."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.invitations import InvitationsState as I


def _offer(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(rx.text.strong(row["organization"].to(str)), t(" invites you as "), row["role"].to(str), "."),
                rx.text(
                    t("From "),
                    row["invited_by"].to(str),
                    t(", open until "),
                    row["expires"].to(str),
                    ".",
                    size="2",
                    color_scheme="gray",
                ),
                align="start",
                spacing="1",
            ),
            rx.spacer(),
            rx.button(t("Accept"), class_name="accept-invitation", on_click=I.respond(row["id"].to(str), True)),
            rx.button(
                t("Decline"),
                variant="soft",
                class_name="decline-invitation",
                on_click=I.respond(row["id"].to(str), False),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
        data_invitation=row["organization"].to(str),
    )


@page(route="/invitations", title="Invitations", on_load=[AuthState.require_login, I.load])
def invitations_page() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Invitations"), size="7"),
        form_error(I.errors.get("", "")),
        rx.cond(
            I.offers.length() > 0,
            rx.vstack(rx.foreach(I.offers, _offer), width="100%"),
            rx.text(t("You have no open invitations."), id="no-invitations", color_scheme="gray"),
        ),
        width="100%",
        max_width="720px",
        spacing="4",
    )


@page(route="/invitation", title="Accept your invitation", on_load=[AuthState.load_user, I.load_offer], centered=True)
def accept_invitation() -> rx.Component:
    return card(
        "Accept your invitation",
        rx.cond(
            I.offer.contains("organization"),
            rx.form(
                rx.vstack(
                    rx.text(
                        rx.text.strong(I.offer["organization"]),
                        t(" invites "),
                        I.offer["email"],
                        t(" as "),
                        I.offer["role"],
                        t(". Choose the password of your new account."),
                        id="invitation-offer",
                    ),
                    form_error(I.errors.get("", "")),
                    form_error(I.errors.get("token", "")),
                    field(
                        "Password",
                        "password",
                        I.errors.get("password", ""),
                        type_="password",
                        auto_complete="new-password",
                    ),
                    field(
                        "Repeat the password",
                        "confirm",
                        I.errors.get("confirm", ""),
                        type_="password",
                        auto_complete="new-password",
                    ),
                    submit("Accept and create my account", I.submitting, id="accept-invitation-submit"),
                    width="100%",
                    spacing="4",
                ),
                on_submit=I.accept_with_password,
                width="100%",
            ),
            rx.callout(
                t("This invitation link is invalid, was already used, has expired or was withdrawn."),
                icon="triangle_alert",
                color_scheme="red",
                id="invitation-invalid",
                width="100%",
            ),
        ),
    )
