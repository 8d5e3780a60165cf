import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.layout import page
from portal.state.signup import SignupState
from services.config import get_settings

_domain = get_settings().base_domain


def _username_hint() -> rx.Component:
    return rx.cond(
        SignupState.username_available,
        rx.text(SignupState.username + f".{_domain} is available", id="username-available", color_scheme="green",
                size="2"),
        rx.text(f"Becomes your address: <username>.{_domain}", size="1", color_scheme="gray"),
    )


@page(centered=True)
def signup() -> rx.Component:
    return card(
        "Create your account",
        rx.form(
            rx.vstack(
                form_error(SignupState.errors.get("", "")),
                field("E-mail", "email", SignupState.errors.get("email", ""), type_="email",
                      placeholder="you@example.com", auto_complete="email"),
                field("Username", "username", SignupState.errors.get("username", ""), placeholder="yourname",
                      hint=_username_hint(), on_change=SignupState.set_username.debounce(300),
                      auto_complete="username"),
                field("Password", "password", SignupState.errors.get("password", ""), type_="password",
                      placeholder="at least 10 characters", auto_complete="new-password"),
                submit("Create account", SignupState.submitting, id="signup-submit"),
                rx.text("Already have an account? ", rx.link("Sign in", href="/login"), size="2"),
                spacing="4",
                width="100%",
            ),
            on_submit=SignupState.submit,
            width="100%",
        ),
        subtitle="Your username becomes the address of your instance.",
    )


@page(centered=True)
def check_email() -> rx.Component:
    return card(
        "Check your inbox",
        rx.text("We sent a confirmation link to ", rx.text.strong(SignupState.sent_to),
                ". Open it to activate your account, then sign in.", id="check-email"),
        rx.link("Go to sign in", href="/login"),
    )
