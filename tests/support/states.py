"""Driving the portal's Reflex state handlers in-process, as a browser's events would, without a server.

One `Browser` is one client: its own tree of states (so AuthState holds its own session token), the page URL
and client address it reports, and a way to call any handler of any state class by name with arguments.
"""

from __future__ import annotations

import inspect
from typing import Any

from reflex.istate.data import HeaderData, ReflexURL, RouterData, SessionData
from reflex.state import BaseState, State

import portal.portal  # noqa: F401  (registers every page and state, as the app does)
from portal.state.auth import AuthState


class Browser:
    def __init__(self, url: str = "http://portal.test/dashboard", ip: str = "10.9.8.7") -> None:
        self.root = State(_reflex_internal_init=True)  # type: ignore[call-arg]
        self.visit(url, ip)

    def visit(self, url: str, ip: str = "10.9.8.7") -> None:
        self.root.router = RouterData(
            session=SessionData(client_token="test-browser", client_ip=ip), headers=HeaderData(), url=ReflexURL(url)
        )

    async def state(self, cls: type[BaseState]) -> Any:
        return await self.root.get_state(cls)

    async def sign_in(self, session_token: str) -> None:
        auth = await self.state(AuthState)
        auth.auth_token = session_token

    async def call(self, cls: type[BaseState], handler: str, *args: Any) -> list[Any]:
        """Run the handler like Reflex would; returns what it yielded or returned (events, redirects, toasts)."""
        state = await self.state(cls)
        result = cls.event_handlers[handler].fn(state, *args)
        if inspect.isasyncgen(result):
            return [item async for item in result]
        if inspect.iscoroutine(result):
            result = await result
        if inspect.isgenerator(result):
            return list(result)
        return [] if result is None else (result if isinstance(result, list) else [result])
