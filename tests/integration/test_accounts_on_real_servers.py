"""The account flows on PostgreSQL, and rate limits shared through Redis (what several workers rely on)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from services import ratelimit
from services.accounts import login as login_flow
from services.accounts import service
from services.accounts.sessions import resolve_session
from services.errors import RateLimited, ValidationFailed
from services.models import User
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env
from tests.support.mailbox import link_in, outbox_messages

PASSWORD = "correct horse battery"


@pytest.fixture()
def pg(settings_env: SettingsEnv) -> Iterator[Session]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        settings_env.setenv("DATABASE_URL", url)  # the job queue renders e-mails from the same database
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
        engine.dispose()


def test_signup_verify_login_on_postgresql(pg: Session, outbox) -> None:  # type: ignore[no-untyped-def]
    service.signup(pg, email="pat@example.com", username="pat", password=PASSWORD)
    pg.commit()
    with pytest.raises(ValidationFailed):
        service.signup(pg, email="PAT@example.com", username="pat2", password=PASSWORD)
    pg.rollback()

    token = link_in(outbox_messages(outbox)[-1]).split("token=")[1]
    service.verify_email(pg, token)
    pg.commit()
    with pytest.raises(ValidationFailed):
        service.verify_email(pg, token)
    pg.rollback()

    session_token = login_flow.login(pg, identifier="pat", password=PASSWORD)
    pg.commit()
    current = resolve_session(pg, session_token)
    assert current is not None and current.username == "pat"
    assert pg.exec(select(User)).one().email_verified_at is not None


def test_rate_limits_are_shared_through_redis(settings_env: SettingsEnv) -> None:
    settings_env.setenv("REDIS_URL", require_env("PORTAL_TEST_REDIS_URL", "Redis"))
    settings_env.setenv("LOGIN_RATE_PER_ACCOUNT", "2/minute")
    account = f"someone-{uuid.uuid4().hex[:8]}"
    ratelimit.check_login("198.51.100.1", account)
    ratelimit.reset_limiter()  # a different worker process: a fresh limiter, same Redis
    ratelimit.check_login("198.51.100.2", account)
    ratelimit.reset_limiter()
    with pytest.raises(RateLimited):
        ratelimit.check_login("198.51.100.3", account)
