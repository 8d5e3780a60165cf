"""Invoices, cancel at period end, downgrade at period end and deleting a free instance, in test mode: the local
Stripe stand-in's events go through the real webhook route and handlers, as Stripe's would."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal.api import build_api
from services.accounts import service
from services.billing import local
from services.billing.enrolment import enrol
from services.billing.invoices import invoice_lines, record_invoice
from services.billing.subscription_changes import (
    billing_overview,
    cancel_downgrade,
    delete_free_instance,
    request_downgrade,
    set_cancellation,
)
from services.billing.subscriptions import apply_due_plan_changes
from services.errors import ValidationFailed
from services.models import Invoice, LocalStripeObject, Plan, ProvisioningAction, Subscription
from services.tenancy.scope import Forbidden
from tests.support import tenants
from tests.support.billing import plans

pytestmark = pytest.mark.usefixtures("webhook_route")


def _paid(db: Session, username: str, plan_slug: str = "basic") -> Subscription:
    plans(db)
    result = service.signup(db, email=f"{username}@example.com", username=username, password="long enough password")
    enrolment = enrol(db, organization_id=result.organization_id, email=result.email, plan_slug=plan_slug)
    db.commit()
    assert enrolment.checkout_url is not None
    local.pay(parse_qs(urlsplit(enrolment.checkout_url).query)["session"][0])
    db.expire_all()
    row = db.get(Subscription, enrolment.subscription_id)
    assert row is not None and row.status == "active"
    return row


def _local_subscription(db: Session, row: Subscription) -> dict:
    db.expire_all()
    stored = db.get(LocalStripeObject, row.stripe_subscription_id)
    assert stored is not None
    return stored.data


def _period_end(db: Session, row: Subscription) -> int:
    return int(_local_subscription(db, row)["items"]["data"][0]["current_period_end"])


def test_the_first_payment_is_an_invoice_with_its_page_and_pdf_and_the_next_one_is_shown(db: Session) -> None:
    row = _paid(db, "invoiced")
    who = tenants.customer(db, "invoiced")
    [line] = invoice_lines(db, row.organization_id)
    assert (line.amount, line.status, line.status_label) == ("$19", "paid", "Paid")
    assert line.number.endswith("-0001") and line.view_url.startswith("http")
    client = TestClient(build_api())
    page = client.get(urlsplit(line.view_url).path)
    assert page.status_code == 200 and line.number in page.text and "$19" in page.text
    assert (
        page.headers["referrer-policy"] == "no-referrer"
        and "default-src 'none'" in page.headers["content-security-policy"]
    )
    pdf = client.get(urlsplit(line.pdf_url).path)
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    )
    # a guessed id, or the id of another kind of local object, opens nothing
    assert client.get("/api/billing/local-invoices/in_local_0000000000").status_code == 404
    assert client.get(f"/api/billing/local-invoices/{row.stripe_subscription_id}").status_code == 404
    view = billing_overview(db, who)
    end = _period_end(db, row)
    assert view.upcoming.startswith("$19 on ") and view.paid and view.plan_name == "Basic"
    assert f"{end}" and view.period_end in view.upcoming  # renews at the end of the period paid for


def test_each_renewal_is_a_new_numbered_invoice(db: Session) -> None:
    row = _paid(db, "renewing")
    end = _period_end(db, row)
    assert local.advance_clock(end - 60) == 0  # not yet
    assert local.advance_clock(end + 1) == 1
    db.expire_all()
    lines = invoice_lines(db, row.organization_id)
    assert [line.number[-4:] for line in lines] == ["0002", "0001"]
    assert _period_end(db, row) == end + int(local.PERIOD.total_seconds())
    renewed = db.get(Subscription, row.id)
    assert renewed is not None and renewed.status == "active"
    assert int(renewed.current_period_end.timestamp()) == _period_end(db, row)  # type: ignore[union-attr]


def test_cancel_at_period_end_can_be_undone_until_the_period_ends_and_then_ends_it(db: Session) -> None:
    row = _paid(db, "leaver")
    who = tenants.customer(db, "leaver")
    before = billing_overview(db, who, with_upcoming=False)
    assert "Nothing more is charged" in before.cancel_effect and before.period_end in before.cancel_effect
    assert set_cancellation(db, who, True) == "cancelled"
    db.commit()
    view = billing_overview(db, who)
    assert view.cancel_scheduled and view.upcoming == "" and view.downgrade_options == []
    assert _local_subscription(db, row)["cancel_at_period_end"] is True
    assert set_cancellation(db, who, True) == "already cancelled"  # a second click changes nothing
    assert set_cancellation(db, who, False) == "resumed"
    db.commit()
    assert (
        not billing_overview(db, who).cancel_scheduled and _local_subscription(db, row)["cancel_at_period_end"] is False
    )
    set_cancellation(db, who, True)
    db.commit()
    end = _period_end(db, row)
    local.advance_clock(end + 1)
    db.expire_all()
    ended = db.get(Subscription, row.id)
    # ended at the period's end: suspended from then (the dunning timeline), deleted after the retention
    assert ended is not None and ended.status == "canceled" and ended.canceled_at is not None
    assert int(ended.canceled_at.timestamp()) == end
    with pytest.raises(ValidationFailed, match="still running"):
        set_cancellation(db, who, False)
    assert len(invoice_lines(db, row.organization_id)) == 1  # nothing more was charged


def test_a_downgrade_is_billed_from_the_renewal_and_its_limits_apply_at_period_end(db: Session) -> None:
    row = _paid(db, "saver", "premium")
    who = tenants.customer(db, "saver")
    basic, premium = plans(db)
    [option] = billing_overview(db, who, with_upcoming=False).downgrade_options
    assert option["slug"] == "basic" and "until" in option["effect"] and "$19" in option["effect"]
    with pytest.raises(ValidationFailed):
        request_downgrade(db, who, "premium")  # not cheaper
    assert request_downgrade(db, who, "basic") == "scheduled"
    db.commit()
    db.expire_all()
    kept = db.get(Subscription, row.id)
    assert kept is not None and kept.plan_id == premium.id and kept.scheduled_plan_id == basic.id
    assert _local_subscription(db, row)["items"]["data"][0]["price"]["id"] == "price_basic"  # billed from renewal
    view = billing_overview(db, who)
    assert view.downgrade_to == "Basic" and view.upcoming.startswith("$19")
    assert cancel_downgrade(db, who) == "undone"
    db.commit()
    db.expire_all()
    undone = db.get(Subscription, row.id)
    assert undone is not None and undone.scheduled_plan_id is None and undone.plan_id == premium.id
    assert _local_subscription(db, row)["items"]["data"][0]["price"]["id"] == "price_premium"
    request_downgrade(db, who, "basic")
    db.commit()
    db.expire_all()
    due = db.get(Subscription, row.id)
    assert due is not None and due.plan_change_at is not None
    assert apply_due_plan_changes(db, due.plan_change_at - timedelta(seconds=1)) == 0
    assert apply_due_plan_changes(db, due.plan_change_at + timedelta(seconds=1)) == 1
    db.commit()
    db.expire_all()
    moved = db.get(Subscription, row.id)
    assert moved is not None and moved.plan_id == basic.id and moved.scheduled_plan_id is None
    assert db.exec(select(ProvisioningAction).where(ProvisioningAction.action == "apply_limits")).first()


def test_a_free_instance_is_deleted_by_its_owner_once_its_name_is_typed(db: Session) -> None:
    platform_plan = plans(db)[0]
    free = Plan(organization_id=platform_plan.organization_id, name="Free", slug="free", price_cents=0)
    db.add(free)
    db.commit()
    result = service.signup(db, email="freebie@example.com", username="freebie", password="long enough password")
    enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="free")
    db.commit()
    owner = tenants.customer(db, "freebie")
    assert billing_overview(db, owner).can_delete
    with pytest.raises(Forbidden):
        delete_free_instance(db, dataclasses.replace(owner, role="admin"), "freebie")
    with pytest.raises(ValidationFailed, match="Type freebie"):
        delete_free_instance(db, owner, "someone-else")
    db.rollback()
    assert db.exec(select(Subscription)).one().terminated_at is None
    with pytest.raises(ValidationFailed, match="still running"):
        delete_free_instance(db, owner, "freebie")  # while it is being provisioned
    db.rollback()
    provisioning = db.exec(select(ProvisioningAction)).one()
    provisioning.status = "succeeded"
    db.add(provisioning)
    db.commit()
    assert delete_free_instance(db, owner, " Freebie ") == "deleting"
    db.commit()
    ended = db.exec(select(Subscription)).one()
    assert ended.status == "canceled" and ended.terminated_at is not None
    assert db.exec(select(ProvisioningAction).where(ProvisioningAction.action == "deprovision")).first()


def test_roles_and_paid_plans_are_held_to_what_they_may_do(db: Session) -> None:
    _paid(db, "roles")
    owner = tenants.customer(db, "roles")
    with pytest.raises(Forbidden):
        billing_overview(db, dataclasses.replace(owner, role="member"))
    with pytest.raises(Forbidden):
        set_cancellation(db, dataclasses.replace(owner, role="member"), True)
    db.rollback()
    assert set_cancellation(db, dataclasses.replace(owner, role="billing"), True) == "cancelled"
    with pytest.raises(ValidationFailed, match="cancelling"):
        delete_free_instance(db, owner, "roles")  # a paid plan ends by cancelling


def test_invoice_events_in_any_order_keep_the_latest_state_and_only_web_links(db: Session) -> None:
    row = _paid(db, "ordered")
    base = {"id": "in_order_1", "currency": "usd", "total": 1900, "amount_due": 1900, "created": 1_800_000_000}
    record_invoice(db, {**base, "status": "paid", "number": "N-1", "hosted_invoice_url": "javascript:alert(1)"}, row)
    record_invoice(db, {**base, "status": "open", "amount_paid": 0}, row)  # an older event, arriving later
    db.commit()
    stored = db.exec(select(Invoice).where(Invoice.stripe_invoice_id == "in_order_1")).one()
    assert stored.status == "paid" and stored.hosted_invoice_url is None and stored.number == "N-1"
    record_invoice(db, {**base, "status": "void", "total": 2**70}, row)  # an absurd amount is not trusted
    db.commit()
    db.refresh(stored)
    assert stored.status == "void" and stored.total == 0


def test_a_cheaper_plan_chosen_on_the_dashboard_is_a_downgrade_at_period_end_and_says_so(db: Session) -> None:
    from services.billing.self_service import change_plan
    from services.dashboard import load_dashboard

    row = _paid(db, "dashdown", "premium")
    who = tenants.customer(db, "dashdown")
    assert change_plan(db, who, "basic") is None
    db.commit()
    db.expire_all()
    view = load_dashboard(db, who)
    assert view.plan_name == "Premium" and view.scheduled_change.startswith("Moves to Basic on ")
    kept = db.get(Subscription, row.id)
    assert kept is not None and kept.plan_change_at == kept.current_period_end
    assert change_plan(db, who, "premium") is None  # choosing the current plan's price again drops the schedule
    db.commit()
    db.expire_all()
    assert load_dashboard(db, who).scheduled_change == ""
