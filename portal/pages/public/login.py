import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.login import LoginState


@page(
    route="/login",
    title="Sign in",
    on_load=[AuthState.redirect_if_signed_in],
    centered=True,
    first_paint=True,
    description="Sign in to manage your instance, its plan, budget and usage.",
)
def login() -> rx.Component:
    return card(
        "Sign in",
        rx.form(
            rx.vstack(
                form_error(LoginState.errors.get("", "")),
                field(
                    "E-mail or username",
                    "identifier",
                    LoginState.errors.get("identifier", ""),
                    auto_complete="username",
                ),
                field(
                    "Password",
                    "password",
                    LoginState.errors.get("password", ""),
                    type_="password",
                    auto_complete="current-password",
                ),
                rx.cond(
                    LoginState.needs_code,
                    field(
                        "Code from your authenticator app",
                        "code",
                        LoginState.errors.get("code", ""),
                        auto_complete="one-time-code",
                        input_mode="numeric",
                        hint=rx.text(
                            t("Lost your phone? Enter one of your recovery codes."), size="1", color_scheme="gray"
                        ),
                    ),
                ),
                submit("Sign in", LoginState.submitting, id="login-submit"),
                rx.hstack(
                    rx.link(t("Forgot your password?"), href="/reset", size="2"),
                    rx.spacer(),
                    rx.link(t("Create an account"), href="/signup", size="2"),
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
        ),
        subtitle="Manage your instance, its plan, budget and usage.",
    )
