import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.layout import page
from portal.state.account import AccountState
from portal.state.auth import AuthState


@page
def account() -> rx.Component:
    return rx.vstack(
        rx.heading("Hello, ", AuthState.username, size="7", id="account-greeting"),
        rx.text("Signed in as ", rx.text.strong(AuthState.email), color_scheme="gray"),
        card(
            "Change password",
            rx.form(
                rx.vstack(
                    form_error(AccountState.errors.get("", "")),
                    field("Current password", "current_password", AccountState.errors.get("current_password", ""),
                          type_="password", auto_complete="current-password"),
                    field("New password", "new_password", AccountState.errors.get("new_password", ""),
                          type_="password", auto_complete="new-password"),
                    field("Repeat the new password", "confirm", AccountState.errors.get("confirm", ""),
                          type_="password", auto_complete="new-password"),
                    submit("Change password", AccountState.submitting, id="change-password-submit"),
                    width="100%",
                    spacing="4",
                ),
                on_submit=AccountState.change_password,
                reset_on_submit=False,
                key=AccountState.form_key,
                width="100%",
            ),
        ),
        spacing="5",
        align="start",
    )
