import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.signup import SignupState


def _username_hint() -> rx.Component:
    return rx.cond(
        SignupState.username_available,
        rx.text(
            SignupState.username + "." + SignupState.instance_domain + " " + t("is available"),
            id="username-available",
            color_scheme="green",
            size="2",
        ),
        rx.text(
            t("Becomes your address:") + " <" + t("username") + ">." + SignupState.instance_domain,
            size="1",
            color_scheme="gray",
        ),
    )


def _plan_option(plan: rx.Var) -> rx.Component:
    return rx.radio_group.item(
        rx.text(plan["name"].to(str), " · ", plan["price"].to(str)),
        value=plan["slug"].to(str),
        id="plan-" + plan["slug"].to(str),
    )


def _plan_picker() -> rx.Component:
    return rx.vstack(
        rx.text(t("Plan"), size="2", weight="medium"),
        rx.radio_group.root(
            rx.vstack(rx.foreach(SignupState.plans, _plan_option), spacing="2"),
            value=SignupState.plan,
            on_change=SignupState.choose_plan,
            name="plan",
        ),
        rx.cond(
            SignupState.errors.get("plan", "") != "",
            rx.text(SignupState.errors.get("plan", ""), id="plan-error", color_scheme="red", size="2"),
        ),
        spacing="1",
        width="100%",
        align="start",
    )


@page(
    route="/signup",
    title="Create your account",
    on_load=[AuthState.redirect_if_signed_in, SignupState.load_plans],
    centered=True,
    first_paint=True,
)
def signup() -> rx.Component:
    return card(
        "Create your account",
        rx.form(
            rx.vstack(
                form_error(SignupState.errors.get("", "")),
                field(
                    "E-mail",
                    "email",
                    SignupState.errors.get("email", ""),
                    type_="email",
                    placeholder="you@example.com",
                    auto_complete="email",
                ),
                field(
                    "Username",
                    "username",
                    SignupState.errors.get("username", ""),
                    placeholder="yourname",
                    hint=_username_hint(),
                    on_change=SignupState.set_username.debounce(300),
                    auto_complete="username",
                ),
                field(
                    "Password",
                    "password",
                    SignupState.errors.get("password", ""),
                    type_="password",
                    placeholder="at least 10 characters",
                    auto_complete="new-password",
                ),
                _plan_picker(),
                submit("Create account", SignupState.submitting, id="signup-submit"),
                rx.text(
                    t("Already have an account?"),
                    " ",
                    rx.link(t("Sign in"), href="/login", underline="always"),
                    size="2",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=SignupState.submit,
            width="100%",
        ),
        subtitle="Your username becomes the address of your instance.",
    )
