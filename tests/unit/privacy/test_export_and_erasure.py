"""Your data: the export holds what the portal keeps about the person; deleting the account ends their sessions,
their organization's billing and instance, and leaves their e-mail, name and IP in no table."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from services import audit
from services.accounts import email_change, service, two_factor
from services.accounts import login as login_flow
from services.accounts.sessions import create_session, resolve_session
from services.billing import local
from services.billing.enrolment import enrol
from services.customer import team
from services.errors import ValidationFailed
from services.models import Instance, Invoice, Membership, Organization, Role, Subscription, User
from services.privacy.data_export import export_zip
from services.privacy.erasure import delete_account, finish_erasures
from tests.support import tenants
from tests.support.accounts import GOOD_PASSWORD
from tests.support.billing import plans

pytestmark = pytest.mark.usefixtures("webhook_route")
IP, AGENT = "203.0.113.77", "PrivacyBrowser/1.0"


def _customer(db: Session, name: str) -> tuple[User, str]:
    """A paying customer with a session from a known IP, an audit trail, and a pending e-mail change."""
    plans(db)
    result = service.signup(db, email=f"{name}@example.com", username=name, password=GOOD_PASSWORD)
    enrolment = enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="basic")
    db.commit()
    assert enrolment.checkout_url is not None
    local.pay(parse_qs(urlsplit(enrolment.checkout_url).query)["session"][0])
    token = create_session(db, result.user_id, ip=IP, user_agent=AGENT)
    audit.record(db, "account.password_changed", actor_user_id=result.user_id, actor_label=result.email, ip=IP)
    db.commit()
    email_change.request_change(db, result.user_id, f"{name}.new@example.org", GOOD_PASSWORD, ip=IP)
    db.commit()
    user = db.get(User, result.user_id)
    assert user is not None
    return user, token


def _everything(db: Session) -> str:
    """Every row of every table, as text."""
    parts = []
    for table in SQLModel.metadata.sorted_tables:
        for row in db.execute(sa_select(table)).all():
            parts.append(json.dumps([str(v) for v in row]))
    return "\n".join(parts)


def test_the_export_holds_the_account_its_sessions_audit_billing_and_usage_without_secrets(db: Session) -> None:
    user, _token = _customer(db, "exporter")
    archive = zipfile.ZipFile(io.BytesIO(export_zip(db, user.id)))  # type: ignore[arg-type]
    names = set(archive.namelist())
    assert names == {
        "account.json",
        "memberships.csv",
        "sessions.csv",
        "audit_events.csv",
        "subscriptions.json",
        "invoices.csv",
        "usage.csv",
    }
    account = json.loads(archive.read("account.json"))
    assert account["email"] == "exporter@example.com" and "password_hash" not in account
    sessions = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode())))
    assert any(s["ip"] == IP and s["user_agent"] == AGENT for s in sessions)
    events = list(csv.DictReader(io.StringIO(archive.read("audit_events.csv").decode())))
    assert "account.password_changed" in {e["action"] for e in events}
    invoices = list(csv.DictReader(io.StringIO(archive.read("invoices.csv").decode())))
    assert [(i["status"], i["total_minor_units"]) for i in invoices] == [("paid", "1900")]
    assert json.loads(archive.read("subscriptions.json"))[0]["plan"] == "Basic"
    everything = b"".join(archive.read(n) for n in names)
    assert user.password_hash.encode() not in everything and b"token_hash" not in everything


def test_deletion_needs_the_password_and_the_second_factor_and_changes_nothing_without(db: Session) -> None:
    user, token = _customer(db, "careful")
    secret = two_factor.begin(db, user.id).secret  # type: ignore[arg-type]
    two_factor.confirm(db, user.id, pyotp.TOTP(secret).now())  # type: ignore[arg-type]
    db.commit()
    with pytest.raises(ValidationFailed, match="not your password"):
        delete_account(db, user.id, "wrong password", "")  # type: ignore[arg-type]
    db.rollback()
    with pytest.raises(ValidationFailed) as caught:
        delete_account(db, user.id, GOOD_PASSWORD, "000000")  # type: ignore[arg-type]
    db.rollback()
    assert "code" in caught.value.errors
    db.expire_all()
    assert db.get(User, user.id).email == "careful@example.com"  # type: ignore[union-attr]
    assert resolve_session(db, token) is not None
    assert db.exec(select(Subscription)).one().status == "active"


def test_the_last_owner_of_a_team_that_goes_on_cannot_delete_the_account_before_handing_over(db: Session) -> None:
    user, _token = _customer(db, "teamlead")
    owner = tenants.customer(db, "teamlead")
    team.invite_colleague(db, owner, "second@example.com", "member")
    db.commit()
    colleague = service.signup(db, email="second@example.com", username="second", password=GOOD_PASSWORD)
    db.add(Membership(user_id=colleague.user_id, organization_id=owner.organization_id, role=Role.MEMBER))  # type: ignore[arg-type]
    db.commit()
    with pytest.raises(ValidationFailed, match="last owner"):
        delete_account(db, user.id, GOOD_PASSWORD)  # type: ignore[arg-type]


def test_after_deletion_no_table_holds_the_persons_email_name_or_ip(db: Session) -> None:
    user, token = _customer(db, "vanishing")
    email, username, user_id = user.email, user.username, user.id
    org_id = db.exec(select(Organization).where(Organization.slug == username)).one().id
    pseudonym = delete_account(db, user_id, GOOD_PASSWORD, ip=IP)  # type: ignore[arg-type]
    db.commit()
    db.expire_all()
    assert pseudonym == f"deleted-{user_id}@erased.invalid"
    assert resolve_session(db, token) is None  # signed out everywhere
    subscription = db.exec(select(Subscription).where(Subscription.organization_id == org_id)).one()
    assert subscription.status == "canceled" and subscription.suspended_at is not None  # no more charges
    stored = db.get(local.LocalStripeObject, subscription.stripe_subscription_id)
    assert stored is not None and stored.data["status"] == "canceled"
    kept = db.exec(select(Invoice).where(Invoice.organization_id == org_id)).all()
    assert [i.status for i in kept] == ["paid"]  # what the business must keep stays, under the pseudonym
    text = _everything(db)
    assert email not in text and "vanishing.new@example.org" not in text
    assert IP not in text and AGENT not in text
    # the instance keeps its name while it waits out the retention; once it is removed, the name goes too
    instance = db.exec(select(Instance).where(Instance.organization_id == org_id)).one()
    instance.status = "deprovisioned"
    db.add(instance)
    db.commit()
    assert finish_erasures(db) == 1
    db.commit()
    assert username not in _everything(db)
    with pytest.raises(ValidationFailed):
        login_flow.login(db, identifier=pseudonym, password=GOOD_PASSWORD)  # nobody signs in as the row again
