"""A dashboard tab stops receiving data at its next update once its session is revoked or its user disabled:
every handler (and each tick of the dashboard's follow loop, which calls the same `_read`) resolves the
session again instead of trusting a remembered user id."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from portal.state.dashboard import DashboardState
from portal.state.usage import UsageState
from services.accounts.sessions import create_session, revoke_all_sessions
from services.models import User
from tests.support.asgi import run_in_own_loop
from tests.support.factories import customer_instance
from tests.support.states import Browser


def _disable(db: Session, user: User) -> None:
    user.status = "disabled"
    db.add(user)


ENDINGS: dict[str, Callable[[Session, User], object]] = {
    "session revoked (signed out elsewhere)": lambda db, user: revoke_all_sessions(db, user.id),  # type: ignore[arg-type]
    "user disabled by an admin": _disable,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_next_update_after_the_session_ends_carries_no_data(db: Session, ending: str) -> None:
    instance = customer_instance(db, "watcher")
    user = db.exec(select(User).where(User.username == "watcher")).one()
    token = create_session(db, user.id)  # type: ignore[arg-type]
    db.commit()
    browser = Browser()

    async def scenario() -> None:
        await browser.sign_in(token)
        await browser.call(DashboardState, "load")
        dashboard = await browser.state(DashboardState)
        assert dashboard.view["instance_id"] == instance.id
        ENDINGS[ending](db, user)
        db.commit()
        assert await dashboard._read() is False  # what each tick of `follow` does
        assert dashboard.view == {}
        await browser.call(UsageState, "load", 1)
        assert (await browser.state(UsageState)).records == []

    run_in_own_loop(scenario())
