"""Uploads are authorised before Reflex reads a byte of them, and never read past the cap."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.api.guards import MAX_UPLOAD_BYTES, UPLOAD_PATH, UploadGuard
from services.accounts.sessions import create_session
from services.models import User

HANDLER = "state.branding_editor_state.upload_logo"


@dataclass
class Browser:
    auth_token: str


class FakeStates:
    """Reflex's state manager, as far as the guard asks it: the browser's AuthState by its client token."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}

    async def get_state(self, token):  # type: ignore[no-untyped-def]
        if token.ident not in self.browsers:
            raise KeyError(token.ident)
        return self.browsers[token.ident]


@pytest.fixture()
def upload(db: Session, tree: dict):  # type: ignore[no-untyped-def]
    reached: list[int] = []

    async def reflex_upload(request: Request) -> PlainTextResponse:
        reached.append(len(await request.body()))
        return PlainTextResponse("stored")

    states = FakeStates()
    app = UploadGuard(
        Starlette(routes=[Route(UPLOAD_PATH, reflex_upload, methods=["POST"])]),
        object,
        lambda: {HANDLER},
        lambda: states,
    )

    def post(username: str | None, *, handler: str = HANDLER, size: int = 1000, length: str | None = None) -> int:
        client_token = "browser-anonymous"
        if username is not None:
            user = db.exec(select(User).where(User.username == username)).one()
            client_token = f"browser-{username}"
            states.browsers[client_token] = Browser(create_session(db, user.id))  # type: ignore[arg-type]
            db.commit()
        headers = {"reflex-client-token": client_token, "reflex-event-handler": handler}
        if length is not None:
            headers["content-length"] = length
        return TestClient(app).post(UPLOAD_PATH, content=b"x" * size, headers=headers).status_code

    return post, reached


def test_only_owners_and_admins_of_a_seller_reach_the_upload(upload) -> None:  # type: ignore[no-untyped-def]
    post, reached = upload
    assert post(None) == 403  # not signed in
    assert post("cust-a") == 403  # a customer
    assert post("a-support") == 403  # staff without the manage role
    assert reached == []  # none of them got a byte read
    assert post("a-admin") == 200
    assert reached == [1000]


def test_other_handlers_unannounced_and_oversized_bodies_are_refused_unread(upload) -> None:  # type: ignore[no-untyped-def]
    post, reached = upload
    assert post("a-admin", handler="state.something_else.upload") == 403
    assert post("a-admin", size=MAX_UPLOAD_BYTES + 1) == 413
    assert post("a-admin", length="abc") in (400, 411)
    assert reached == []
