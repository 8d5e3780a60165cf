"""The Reflex app: pages, their on_load hooks and the HTTP API, all thin layers over services/."""

import reflex as rx
from reflex_base.utils import format
from starlette.types import ASGIApp

from portal.api import WebhookFastPath, api_transformer
from portal.api.guards import UploadGuard
from portal.pages.account.account import account
from portal.pages.account.invitations import accept_invitation, invitations_page
from portal.pages.admin.branding import branding_editor
from portal.pages.admin.console import admin_console
from portal.pages.dashboard.dashboard import dashboard
from portal.pages.public.billing import checkout_cancelled, checkout_success, test_checkout, test_portal
from portal.pages.public.landing import landing
from portal.pages.public.login import login
from portal.pages.public.pricing import pricing
from portal.pages.public.reset import reset_confirm, reset_request
from portal.pages.public.signup import signup
from portal.pages.public.verify import verify
from portal.state.admin_customers import ConsoleState
from portal.state.admin_team import TeamState
from portal.state.auth import AuthState
from portal.state.billing import CheckoutReturnState, TestCheckoutState
from portal.state.brand import BrandState
from portal.state.branding_editor import BrandingEditorState
from portal.state.dashboard import DashboardState
from portal.state.invitations import InvitationsState
from portal.state.pricing import PricingState
from portal.state.security import SecurityState
from portal.state.signup import SignupState
from portal.state.usage import UsageState
from portal.state.verify import VerifyState
from services import worker
from services.config import get_settings

get_settings().check_startup()  # refuse to start in production with a placeholder key or test-mode billing
QUEUE = worker.huey  # importing services.worker connects every domain to the job queue before a page queues work


def _upload_handlers() -> set[str]:
    """The event handlers Reflex's /_upload may deliver to: the branding editor's image uploads, nothing else."""
    return {
        format.format_event_handler(BrandingEditorState.event_handlers[name])
        for name in ("upload_logo", "upload_favicon")
    }


class PortalApp(rx.App):
    """The Reflex app, with Stripe's webhook answered in front of everything Reflex puts around its backend,
    and uploads authorised and capped before Reflex reads them (portal/api/guards.py)."""

    def __call__(self) -> ASGIApp:  # the ASGI factory the production server (granian) calls
        return UploadGuard(WebhookFastPath(super().__call__()), AuthState, _upload_handlers, lambda: self.state_manager)


app = PortalApp(api_transformer=api_transformer)


def add_page(component, route: str, title: str, on_load=None) -> None:
    """Every page resolves the brand of its host first; the shell shows nothing branded until then."""
    hooks = on_load if isinstance(on_load, list) else ([on_load] if on_load is not None else [])
    app.add_page(component, route=route, title=title, on_load=[BrandState.load, *hooks])


_public = AuthState.load_user
add_page(landing, route="/", title="Portal", on_load=_public)
add_page(pricing, route="/pricing", title="Pricing", on_load=[_public, PricingState.load])
add_page(
    signup,
    route="/signup",
    title="Create your account",
    on_load=[AuthState.redirect_if_signed_in, SignupState.load_plans],
)
add_page(login, route="/login", title="Sign in", on_load=AuthState.redirect_if_signed_in)
add_page(verify, route="/verify", title="Confirm your e-mail", on_load=[_public, VerifyState.verify])
add_page(reset_request, route="/reset", title="Reset password", on_load=_public)
add_page(reset_confirm, route="/reset/confirm", title="Choose a new password", on_load=_public)
add_page(account, route="/account", title="Your account", on_load=[AuthState.require_login, SecurityState.load])
add_page(
    invitations_page,
    route="/invitations",
    title="Invitations",
    on_load=[AuthState.require_login, InvitationsState.load],
)
add_page(
    accept_invitation,
    route="/invitation",
    title="Accept your invitation",
    on_load=[_public, InvitationsState.load_offer],
)
add_page(
    dashboard,
    route="/dashboard",
    title="Dashboard",
    on_load=[AuthState.require_login, DashboardState.load, UsageState.load],
)
add_page(
    test_checkout,
    route="/billing/test-checkout",
    title="Checkout (test mode)",
    on_load=[_public, TestCheckoutState.load],
)
add_page(
    checkout_success, route="/billing/success", title="Payment received", on_load=[_public, CheckoutReturnState.follow]
)
add_page(checkout_cancelled, route="/billing/cancel", title="Payment cancelled", on_load=_public)
add_page(test_portal, route="/billing/test-portal", title="Billing portal (test mode)", on_load=_public)
add_page(
    branding_editor,
    route="/admin/branding",
    title="Branding",
    on_load=[AuthState.require_login, BrandingEditorState.load_editor],
)
add_page(
    admin_console,
    route="/admin",
    title="Admin console",
    on_load=[AuthState.require_login, ConsoleState.load_console, TeamState.load_team],
)
