import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.reset import ResetState


@page(route="/reset", title="Reset password", on_load=[AuthState.load_user], centered=True)
def reset_request() -> rx.Component:
    return card(
        "Reset your password",
        rx.cond(
            ResetState.requested,
            rx.callout(
                t(
                    "If an account exists for this address, we sent a link to reset the password. "
                    "It expires soon and works once."
                ),
                icon="mail",
                id="reset-requested",
            ),
            rx.form(
                rx.vstack(
                    form_error(ResetState.errors.get("", "")),
                    field("E-mail", "email", ResetState.errors.get("email", ""), type_="email"),
                    submit("Send reset link", ResetState.submitting, id="reset-submit"),
                    width="100%",
                    spacing="4",
                ),
                on_submit=ResetState.request_link,
                width="100%",
            ),
        ),
    )


@page(route="/reset/confirm", title="Choose a new password", on_load=[AuthState.load_user], centered=True)
def reset_confirm() -> rx.Component:
    return card(
        "Choose a new password",
        rx.form(
            rx.vstack(
                form_error(ResetState.errors.get("", "")),
                rx.cond(
                    ResetState.errors.get("token", "") != "",
                    rx.callout(
                        ResetState.errors.get("token", ""),
                        icon="triangle_alert",
                        color_scheme="red",
                        id="token-error",
                        width="100%",
                    ),
                ),
                field(
                    "New password",
                    "password",
                    ResetState.errors.get("password", ""),
                    type_="password",
                    auto_complete="new-password",
                ),
                field(
                    "Repeat the new password",
                    "confirm",
                    ResetState.errors.get("confirm", ""),
                    type_="password",
                    auto_complete="new-password",
                ),
                submit("Set new password", ResetState.submitting, id="reset-confirm-submit"),
                rx.link(t("Request a new link"), href="/reset", size="2"),
                width="100%",
                spacing="4",
            ),
            on_submit=ResetState.choose_password,
            width="100%",
        ),
    )
