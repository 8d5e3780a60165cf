"""The Reflex app: pages, their on_load hooks and the HTTP API, all thin layers over services/."""

import reflex as rx
from reflex_base.utils import format
from starlette.types import ASGIApp

from portal import pages
from portal.api import WebhookFastPath, api_transformer
from portal.api.guards import UploadGuard
from portal.api.observe import Observed
from portal.state.auth import AuthState
from portal.state.branding_editor import BrandingEditorState
from services import worker
from services.config import get_settings
from services.ops.logs import configure_logging

get_settings().check_startup()  # refuse to start in production with a placeholder key or test-mode billing
configure_logging()  # our records with their request id, as text or JSON (LOG_FORMAT)
QUEUE = worker.huey  # importing services.worker connects every domain to the job queue before a page queues work


def _upload_handlers() -> set[str]:
    """The event handlers Reflex's /_upload may deliver to: the branding editor's image uploads, nothing else."""
    return {
        format.format_event_handler(BrandingEditorState.event_handlers[name])
        for name in ("upload_logo", "upload_favicon")
    }


class PortalApp(rx.App):
    """The Reflex app, with Stripe's webhook answered in front of everything Reflex puts around its backend,
    uploads authorised and capped before Reflex reads them (portal/api/guards.py), and every request timed
    and given a request id (portal/api/observe.py)."""

    def __call__(self) -> ASGIApp:  # the ASGI factory the production server (granian) calls
        guarded = UploadGuard(
            WebhookFastPath(super().__call__()), AuthState, _upload_handlers, lambda: self.state_manager
        )
        return Observed(guarded)


app = PortalApp(api_transformer=api_transformer)


for declared in pages.declared():
    app.add_page(
        declared.component,
        route=declared.route,
        title=declared.title,
        on_load=declared.on_load,
        description=declared.description,
    )
