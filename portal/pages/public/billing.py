import reflex as rx

from portal.components.forms import card, form_error
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.billing import CheckoutReturnState, TestCheckoutState
from portal.state.payouts import TestConnectState


@page(
    route="/billing/test-checkout",
    title="Checkout (test mode)",
    on_load=[AuthState.load_user, TestCheckoutState.load],
    centered=True,
)
def test_checkout() -> rx.Component:
    return card(
        "Checkout",
        rx.badge(t("TEST MODE: no real payment is taken"), color_scheme="orange", size="2", id="test-mode"),
        rx.cond(
            TestCheckoutState.found,
            rx.vstack(
                rx.text(t("Subscription for "), rx.text.strong(TestCheckoutState.email)),
                rx.cond(
                    TestCheckoutState.plan_name != "",
                    rx.text(
                        rx.text.strong(TestCheckoutState.plan_name, id="checkout-plan"),
                        ", ",
                        rx.text.span(TestCheckoutState.plan_amount, id="checkout-amount"),
                    ),
                    rx.text(t("Price: "), rx.code(TestCheckoutState.plan_price), size="2"),
                ),
                rx.cond(TestCheckoutState.error != "", rx.callout(TestCheckoutState.error, color_scheme="red")),
                rx.button(
                    t("Pay (test mode)"),
                    on_click=TestCheckoutState.pay,
                    loading=TestCheckoutState.paying,
                    size="3",
                    width="100%",
                    id="pay",
                ),
                rx.link(t("Cancel and go back"), href=TestCheckoutState.cancel_url, size="2", id="cancel-checkout"),
                width="100%",
                spacing="3",
            ),
            rx.text(t("This checkout session does not exist or has expired.")),
        ),
    )


@page(
    route="/billing/success",
    title="Payment received",
    on_load=[AuthState.load_user, CheckoutReturnState.follow],
    centered=True,
)
def checkout_success() -> rx.Component:
    return card(
        "Thank you",
        rx.cond(
            CheckoutReturnState.known,
            rx.vstack(
                rx.callout(CheckoutReturnState.headline, icon="circle_check", color_scheme="green", id="paid"),
                rx.text(
                    t("Subscription: "), rx.badge(CheckoutReturnState.subscription_status, id="checkout-sub-status")
                ),
                rx.text(t("Instance: "), rx.badge(CheckoutReturnState.instance_status, id="checkout-instance-status")),
                rx.cond(
                    CheckoutReturnState.ready,
                    rx.text(
                        t("Your instance is ready at "),
                        rx.link(CheckoutReturnState.instance_url, href=CheckoutReturnState.instance_url),
                    ),
                ),
                rx.link(rx.button(t("Go to your dashboard")), href="/dashboard", id="to-dashboard"),
                spacing="3",
            ),
            rx.text(t("We could not find this payment. If you just paid, it may take a moment; check your dashboard.")),
        ),
    )


@page(route="/billing/cancel", title="Payment cancelled", on_load=[AuthState.load_user], centered=True)
def checkout_cancelled() -> rx.Component:
    return card(
        "Payment cancelled",
        rx.text(t("Nothing was charged. Your account is kept: you can pay whenever you are ready.")),
        form_error(CheckoutReturnState.errors.get("", "")),
        rx.button(t("Try again"), on_click=CheckoutReturnState.try_again, size="3", id="try-again"),
        rx.link(t("Go to your dashboard"), href="/dashboard", size="2"),
    )


@page(route="/billing/test-portal", title="Billing portal (test mode)", on_load=[AuthState.load_user], centered=True)
def test_portal() -> rx.Component:
    return card(
        "Billing portal",
        rx.badge(t("TEST MODE"), color_scheme="orange"),
        rx.text(
            t(
                "With Stripe keys configured, this button opens Stripe's customer portal, where customers update "
                "their card, see invoices and cancel. In test mode there is nothing to manage."
            )
        ),
        rx.link(rx.button(t("Back to the dashboard")), href="/dashboard"),
    )


@page(
    route="/billing/test-connect",
    title="Connect your Stripe account (test mode)",
    on_load=[AuthState.load_user, TestConnectState.load],
    centered=True,
)
def test_connect() -> rx.Component:
    return card(
        "Connect your Stripe account",
        rx.badge(t("TEST MODE"), color_scheme="orange", id="test-mode"),
        rx.text(
            t(
                "With Stripe keys configured, this is Stripe's own onboarding, where you give your business and bank "
                "details. In test mode, finishing here enables the account at once."
            )
        ),
        rx.text(t("Account: "), rx.code(TestConnectState.account)),
        rx.cond(TestConnectState.error != "", rx.callout(TestConnectState.error, color_scheme="red", role="alert")),
        rx.button(t("Finish onboarding"), on_click=TestConnectState.finish, id="finish-onboarding"),
    )
