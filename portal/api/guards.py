"""What every HTTP route gets before its handler: a hard cap on the body, read while streaming, and for
Reflex's upload endpoint, authorisation before a single byte of the body is read.

Reflex's /_upload parses the whole multipart body before it calls the event handler that could refuse it, so an
anonymous caller could make the portal read and spool any amount of data. UploadGuard stands in front: it
accepts only the upload handlers listed here, demands a Content-Length within the cap, and resolves the
browser's session through the same services as every console action (the uploader must be staff with the
"manage" role); only then does Reflex see the request, and even then never more bytes than were announced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from reflex.istate.manager.token import BaseStateToken
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.accounts.sessions import resolve_session
from services.db import session_scope
from services.tenancy.scope import Forbidden, authorise, resolve_actor

UPLOAD_PATH = "/_upload"
MAX_UPLOAD_BYTES = 600 * 1024  # a 512 KB image and its multipart envelope


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed `limit` (announced or while streaming)."""
    announced = request.headers.get("content-length")
    if announced is not None and (not announced.isdigit() or int(announced) > limit):
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"the body is larger than {limit} bytes"}, status_code=413)


class UploadGuard:
    """ASGI middleware in front of Reflex's /_upload (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, auth_state: type, handlers: Callable[[], set[str]], state_manager: Callable[[], Any]
    ) -> None:
        self.app = app
        self.auth_state = auth_state
        self.handlers = handlers
        self.state_manager = state_manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _capped(receive, MAX_UPLOAD_BYTES), send)

    async def _refusal(self, scope: Scope) -> Response | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if scope.get("method") != "POST":
            return JSONResponse({"error": "method not allowed"}, status_code=405, headers={"Allow": "POST"})
        if headers.get("reflex-event-handler", "") not in self.handlers():
            return JSONResponse(
                {"error": "uploads are only accepted for the portal's own upload forms"}, status_code=403
            )
        length = headers.get("content-length", "")
        if not length.isdigit():
            return JSONResponse({"error": "an upload must announce its Content-Length"}, status_code=411)
        if int(length) > MAX_UPLOAD_BYTES:
            return too_large(MAX_UPLOAD_BYTES)
        client_token = headers.get("reflex-client-token", "")
        if not client_token or len(client_token) > 200 or not await self._may_upload(client_token):
            return JSONResponse(
                {"error": "sign in as an owner or admin of a selling organization to upload"}, status_code=403
            )
        return None

    async def _may_upload(self, client_token: str) -> bool:
        manager = self.state_manager()
        try:
            state = await manager.get_state(BaseStateToken(ident=client_token, cls=self.auth_state))
            # the state managers hand back the browser's whole tree: the session token is in its AuthState
            auth = state if isinstance(state, self.auth_state) else await state.get_state(self.auth_state)
        except Exception:  # noqa: BLE001 - an unknown or malformed browser token is simply not signed in
            return False
        return await asyncio.to_thread(_is_manager, getattr(auth, "auth_token", ""))


def _is_manager(session_token: str) -> bool:
    with session_scope() as session:
        current = resolve_session(session, session_token)
        if current is None or current.impersonator_id is not None:
            return False
        actor = resolve_actor(session, current.id, current.email)
        try:
            authorise(
                session,
                actor,
                "manage",
                action="branding.upload",
                target=("upload", "-"),
                organization_id=actor.organization_id if actor else -1,
            )
        except Forbidden:
            return False
        return True


def _capped(receive: Receive, limit: int) -> Callable[[], Awaitable[Message]]:
    """Never more than `limit` bytes reach the app; past it the app sees the client go away."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped
