"""Account deletion on PostgreSQL: the e-mail address leaves every text and JSON column (json cast to text, replace
on the server), IPs and browsers are dropped, and nothing of the person is left in any table."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from services import audit
from services.accounts import service
from services.accounts.sessions import create_session, resolve_session
from services.billing.enrolment import enrol
from services.db import dispose_engines
from services.models import LocalStripeObject, Organization, Plan, StripeEvent, Subscription
from services.privacy.erasure import delete_account
from tests.support.accounts import GOOD_PASSWORD
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env

IP, AGENT = "198.51.100.23", "ErasedBrowser/2.0"


@pytest.fixture()
def on_postgres(settings_env: SettingsEnv) -> Iterator[str]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        settings_env.setenv("DATABASE_URL", url)
        dispose_engines()
        yield url
    dispose_engines()


@pytest.fixture()
def pg_db(on_postgres: str, db: Session) -> Session:
    assert db.get_bind().dialect.name == "postgresql"
    return db


def _everything(db: Session) -> str:
    return "\n".join(
        json.dumps([str(v) for v in row])
        for table in SQLModel.metadata.sorted_tables
        for row in db.execute(sa_select(table)).all()
    )


def test_after_deletion_no_postgresql_table_holds_the_email_or_ip(pg_db: Session, scheduled_actions: list) -> None:
    db = pg_db
    platform = Organization(name="Platform", slug="platform", kind="platform")
    db.add(platform)
    db.flush()
    db.add(Plan(organization_id=platform.id, name="Free", slug="free", price_cents=0))  # type: ignore[arg-type]
    db.commit()
    result = service.signup(db, email="gone@example.com", username="gonewithit", password=GOOD_PASSWORD)
    enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="free")
    token = create_session(db, result.user_id, ip=IP, user_agent=AGENT)
    audit.record(
        db,
        "account.signed_in",
        actor_user_id=result.user_id,
        actor_label=result.email,
        ip=IP,
        details={"email": result.email, "nested": [{"to": result.email}]},
    )
    # what Stripe's events and the test-mode stand-in keep: JSON documents naming the address
    db.add(
        StripeEvent(
            stripe_id="evt_pg_1",
            type="checkout.session.completed",
            payload={"data": {"object": {"customer_email": result.email}}},
        )
    )
    db.add(LocalStripeObject(id="cs_pg_1", kind="checkout.session", data={"customer_email": result.email}))
    db.commit()

    delete_account(db, result.user_id, GOOD_PASSWORD)
    db.commit()
    db.expire_all()

    assert resolve_session(db, token) is None
    assert db.exec(select(Subscription)).one().status == "canceled"
    text = _everything(db)
    assert "gone@example.com" not in text and IP not in text and AGENT not in text
    kept = db.exec(select(StripeEvent)).one()
    assert kept.payload["data"]["object"]["customer_email"] == f"deleted-{result.user_id}@erased.invalid"
