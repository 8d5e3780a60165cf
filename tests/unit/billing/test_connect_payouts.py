"""Payouts with Stripe Connect, against the local Stripe stand-in that checks every parameter against stripe's
typed parameters: a reseller connects its own account, its customers then pay it through the platform with the
platform's fee kept, and a later restriction tells the reseller while its customers keep their instances."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import service
from services.admin import resellers
from services.billing.connect import destination_for, onboarding_link, payouts_view
from services.billing.enrolment import enrol
from services.errors import ValidationFailed
from services.models import (
    ConnectedAccount,
    Licence,
    Membership,
    Organization,
    OrgKind,
    Plan,
    ProvisioningAction,
    Role,
    StripeEvent,
    Subscription,
    User,
)
from services.models.base import key
from services.tenancy.scope import resolve_actor
from tests.support.billing import SECRET, Billing, PaidCustomer, checkout_completed, payload
from tests.support.env import SettingsEnv
from tests.support.mailbox import outbox_messages, text_of
from tests.support.stripe_support import event, sign, subscription_object


def _reseller(db: Session) -> tuple[Organization, object]:
    platform = db.exec(select(Organization).where(Organization.kind == OrgKind.PLATFORM)).first()
    if platform is None:
        platform = Organization(name="Platform", slug="platform", kind=OrgKind.PLATFORM)
        db.add(platform)
        db.flush()
    seller = Organization(name="Omega Hosting", slug="omega", kind=OrgKind.RESELLER, parent_id=platform.id)
    db.add(seller)
    db.flush()
    owner = User(email="owner@omega.example", username="omega-owner", password_hash="x")
    db.add(owner)
    db.flush()
    db.add(Membership(user_id=owner.id, organization_id=seller.id, role=Role.OWNER))  # type: ignore[arg-type]
    db.add(Licence(organization_id=seller.id, tier="pro", application_fee_bps=1250))  # type: ignore[arg-type]
    db.add(
        Plan(
            organization_id=seller.id,  # type: ignore[arg-type]
            name="Omega Basic",
            slug="omega-basic",
            price_cents=2500,  # type: ignore[arg-type]
            stripe_price_id="price_omega_basic",
        )
    )
    db.commit()
    actor = resolve_actor(db, owner.id, owner.email)  # type: ignore[arg-type]
    assert actor is not None
    return seller, actor


def _reseller_customer(db: Session, billing: Billing, seller: Organization, name: str) -> PaidCustomer:
    """A customer of the reseller who bought its plan (Stripe's side of the subscription set up in the fake)."""
    result = service.signup(
        db, email=f"{name}@example.com", username=name, password="long enough password", parent_org_id=seller.id
    )
    enrolment = enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="omega-basic")
    db.commit()
    subscription = db.get(Subscription, enrolment.subscription_id)
    assert subscription is not None and enrolment.checkout_url
    metadata = {"portal_subscription_id": str(subscription.id), "organization_id": str(result.organization_id)}
    billing.stripe.subscriptions[f"sub_{name}"] = subscription_object(
        f"sub_{name}", f"cus_{name}", "price_omega_basic", metadata=metadata
    )
    return PaidCustomer(
        result.organization_id,
        key(subscription),
        enrolment.instance_id,  # type: ignore[arg-type]
        enrolment.checkout_url,
        subscription.checkout_session_id or "",
        f"sub_{name}",
        f"cus_{name}",
    )


def _deliver(billing: Billing, evt: dict) -> int:
    text = payload(evt)
    return billing.post(text, sign(text, SECRET))[0]


def test_a_reseller_connects_its_account_and_its_customers_pay_it_with_the_platform_fee_kept(
    db: Session, billing: Billing
) -> None:
    seller, owner = _reseller(db)
    view = payouts_view(db, owner)
    assert view is not None and view.label == "Not connected"
    link = onboarding_link(db, owner, "omega.localhost")
    db.commit()
    account = db.exec(select(ConnectedAccount)).one()
    assert link == f"{billing.stripe.url}/onboard/{account.stripe_account_id}"
    [created] = [r for r in billing.stripe.requests if r["path"] == "/v1/accounts"]
    assert created["form"]["type"] == "express" and created["form"]["capabilities[transfers][requested]"] == "true"
    [linked] = [r for r in billing.stripe.requests if r["path"] == "/v1/account_links"]
    assert linked["form"]["type"] == "account_onboarding" and linked["form"]["return_url"].endswith(
        "/admin?payouts=return"
    )
    assert account.status == "details_missing" and payouts_view(db, owner).fee == "12.50 %"  # type: ignore[union-attr]
    onboarding_link(db, owner)  # a second visit: a fresh link to the same account
    db.commit()
    assert len([r for r in billing.stripe.requests if r["path"] == "/v1/accounts"]) == 1

    # Stripe enables the account; its Connect event (with its top-level `account`) is handled like the rest
    truth = billing.stripe.accounts[account.stripe_account_id]
    truth.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
    connect_event = {**event("account.updated", truth), "account": account.stripe_account_id}
    assert _deliver(billing, connect_event) == 200
    db.expire_all()
    assert db.get(ConnectedAccount, account.id).status == "enabled"  # type: ignore[union-attr]
    assert {s["name"]: s["done"] for s in resellers.setup_steps(db, owner)}["payouts"] == "yes"

    # a customer of the reseller pays: the money goes to the reseller, the platform keeps 12.5 %
    result = service.signup(
        db, email="buyer@example.com", username="buyer", password="long enough password", parent_org_id=seller.id
    )
    enrol(db, organization_id=result.organization_id, email=result.email, plan_slug="omega-basic")
    db.commit()
    checkout = [r for r in billing.stripe.requests if r["path"] == "/v1/checkout/sessions"][-1]["form"]
    assert checkout["subscription_data[transfer_data][destination]"] == account.stripe_account_id
    assert checkout["subscription_data[application_fee_percent]"] == "12.5"
    assert billing.stripe.problems == []


def test_a_restricted_account_tells_the_reseller_and_its_customers_keep_their_instances(
    db: Session, billing: Billing, outbox: Path
) -> None:
    seller, owner = _reseller(db)
    onboarding_link(db, owner)
    db.commit()
    account = db.exec(select(ConnectedAccount)).one()
    truth = billing.stripe.accounts[account.stripe_account_id]
    truth.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
    assert _deliver(billing, {**event("account.updated", truth), "account": account.stripe_account_id}) == 200
    customer = _reseller_customer(db, billing, seller, "keeper")  # pays the reseller, through the platform
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    assert db.get(Subscription, customer.subscription_id).status == "active"  # type: ignore[union-attr]
    actions_before = len(db.exec(select(ProvisioningAction)).all())
    older = {**event("account.updated", dict(truth)), "account": account.stripe_account_id}

    truth.update(charges_enabled=False, payouts_enabled=False)
    truth["requirements"] = {**truth.get("requirements", {}), "disabled_reason": "requirements.past_due"}
    assert _deliver(billing, {**event("account.updated", truth), "account": account.stripe_account_id}) == 200
    assert _deliver(billing, older) == 200  # an older event, late: the account is read again, still restricted
    db.expire_all()
    stored = db.get(ConnectedAccount, account.id)
    assert stored is not None and stored.status == "restricted" and stored.disabled_reason == "requirements.past_due"
    told = [m for m in outbox_messages(outbox) if m["To"] == "owner@omega.example"]
    assert len(told) == 1 and "requirements.past_due" in text_of(told[0])
    assert "Restricted" in payouts_view(db, owner).label  # type: ignore[union-attr]
    subscription = db.get(Subscription, customer.subscription_id)
    assert subscription is not None and subscription.status == "active" and subscription.suspended_at is None
    assert len(db.exec(select(ProvisioningAction)).all()) == actions_before  # nothing suspended
    # new checkouts of the reseller's plans stop going to the restricted account
    plan = db.exec(select(Plan).where(Plan.slug == "omega-basic")).one()
    assert destination_for(db, plan) == (None, None)
    unknown = {**event("account.updated", {**truth, "id": "acct_nobody"}), "account": "acct_nobody"}
    billing.stripe.accounts["acct_nobody"] = {**truth, "id": "acct_nobody"}
    assert _deliver(billing, unknown) == 200
    stored_event = db.exec(select(StripeEvent).where(StripeEvent.stripe_id == unknown["id"])).one()
    assert stored_event.status == "ignored"


def test_connect_events_signed_with_the_connect_endpoint_secret_are_accepted_and_others_refused(
    db: Session, billing: Billing, settings_env: SettingsEnv
) -> None:
    connect_secret = "whsec_connect_" + "1" * 24
    settings_env.setenv("STRIPE_CONNECT_WEBHOOK_SECRET", connect_secret)
    evt = {**event("account.updated", {"id": "acct_x", "object": "account"}), "account": "acct_x"}
    text = payload(evt)
    assert billing.post(text, sign(text, connect_secret))[0] == 200
    assert billing.post(text, sign(text, "whsec_someone_else_" + "2" * 20))[0] == 400


def test_connecting_while_stripe_is_down_says_so_and_creates_nothing(db: Session, billing: Billing) -> None:
    _seller, owner = _reseller(db)
    billing.stripe.fail_with = 503
    with pytest.raises(ValidationFailed, match="cannot be reached"):
        onboarding_link(db, owner)
    db.rollback()
    assert db.exec(select(ConnectedAccount)).all() == []
