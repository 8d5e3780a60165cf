"""Stripe, seen through the few calls the portal makes. Real Stripe with keys, a local test mode without.

Everything comes back as plain dicts shaped like Stripe's objects, so handlers never depend on which one ran.

Coverage: a returning customer's `customer` parameter and a Stripe error other than 404 on a subscription read
are not provoked by the fake Stripe server; both are single lines handed to the stripe library as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import stripe
from sqlmodel import Session

from services.config import get_settings

if TYPE_CHECKING:
    from stripe.params.checkout._session_create_params import SessionCreateParams


DOWNGRADE_AT = "portal_downgrade_at"  # subscription metadata: when a scheduled downgrade's limits apply


@dataclass(frozen=True)
class CheckoutRequest:
    organization_id: int
    instance_id: int
    subscription_id: int
    price_id: str
    customer_email: str
    customer_id: str | None
    success_url: str
    cancel_url: str
    idempotency_key: str
    # Stripe Connect: the seller's own account receives the payments, the platform keeps this share of each
    destination_account: str | None = None
    application_fee_percent: str | None = None  # "12.5"

    @property
    def metadata(self) -> dict[str, str]:
        return {
            "organization_id": str(self.organization_id),
            "instance_id": str(self.instance_id),
            "portal_subscription_id": str(self.subscription_id),
        }


class BillingGateway(Protocol):
    test_mode: bool

    def create_checkout_session(self, request: CheckoutRequest, session: Session | None = None) -> dict[str, Any]:
        """`session`: the caller's open transaction (test mode records the checkout in it)."""

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None: ...

    def change_price(
        self,
        subscription_id: str,
        price_id: str,
        idempotency_key: str,
        *,
        downgrade_at: int | None = None,
        prorate: bool = True,
    ) -> dict[str, Any]:
        """`prorate=False`: no credit or charge for the rest of the period (a downgrade taken back).
        `downgrade_at`: a downgrade, billed from the next renewal without proration, whose limits apply from that
        time (kept in the subscription's metadata, so every later event says so). Neither: at once, prorated."""

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, idempotency_key: str) -> dict[str, Any]:
        """Cancel at the end of the period already paid for, or take that back before it ends."""

    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        """End the subscription at once, with no further charge (the customer deleted their account)."""

    def preview_invoice(self, customer_id: str, subscription_id: str) -> dict[str, Any] | None:
        """The next invoice as it stands (None when none is coming: a subscription that ends)."""

    def create_portal_session(self, customer_id: str, return_url: str) -> str: ...

    def create_connected_account(self, email: str, metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        """A seller's own Stripe account (Express: Stripe runs its onboarding and its dashboard)."""

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """Where the seller finishes (or resumes) onboarding; single use and short-lived, so asked each time."""

    def retrieve_account(self, account_id: str) -> dict[str, Any] | None: ...


class StripeGateway:
    """Real Stripe (stripe 16.x). STRIPE_API_BASE points it at a local server in tests."""

    test_mode = False

    def __init__(self) -> None:
        settings = get_settings()
        options: dict[str, Any] = {"max_network_retries": 2}
        if settings.stripe_api_base:
            options["base_addresses"] = {"api": settings.stripe_api_base}
        self._client = stripe.StripeClient(settings.stripe_secret_key or "", **options)

    def create_checkout_session(self, request: CheckoutRequest, session: Session | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": request.price_id, "quantity": 1}],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.organization_id),
            "metadata": request.metadata,
            "subscription_data": {"metadata": request.metadata},
        }
        if request.destination_account:  # destination charges: the seller is paid, the platform takes its fee
            params["subscription_data"]["transfer_data"] = {"destination": request.destination_account}
            if request.application_fee_percent:
                params["subscription_data"]["application_fee_percent"] = request.application_fee_percent
        if request.customer_id:
            params["customer"] = request.customer_id
        else:
            params["customer_email"] = request.customer_email
        created = self._client.v1.checkout.sessions.create(
            params=cast(
                "SessionCreateParams", params
            ),  # built as a dict: its shape is tested against Stripe's fixtures
            options={"idempotency_key": request.idempotency_key},
        )
        return dict(created.to_dict())

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        try:
            return self._client.v1.subscriptions.retrieve(subscription_id).to_dict()
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) == 404:
                return None
            raise

    def change_price(
        self,
        subscription_id: str,
        price_id: str,
        idempotency_key: str,
        *,
        downgrade_at: int | None = None,
        prorate: bool = True,
    ) -> dict[str, Any]:
        current = self._client.v1.subscriptions.retrieve(subscription_id)
        item_id = current["items"]["data"][0]["id"]
        updated = self._client.v1.subscriptions.update(
            subscription_id,
            params={
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations" if prorate and not downgrade_at else "none",
                "metadata": {DOWNGRADE_AT: str(downgrade_at) if downgrade_at else ""},  # "" removes the key
            },
            options={"idempotency_key": idempotency_key},
        )
        return updated.to_dict()

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, idempotency_key: str) -> dict[str, Any]:
        updated = self._client.v1.subscriptions.update(
            subscription_id, params={"cancel_at_period_end": cancel}, options={"idempotency_key": idempotency_key}
        )
        return updated.to_dict()

    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        try:
            ended = self._client.v1.subscriptions.cancel(subscription_id, options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) == 404:
                return {"id": subscription_id, "status": "canceled"}  # already gone at Stripe
            raise
        return ended.to_dict()

    def preview_invoice(self, customer_id: str, subscription_id: str) -> dict[str, Any] | None:
        try:
            preview = self._client.v1.invoices.create_preview(
                params={"customer": customer_id, "subscription": subscription_id}
            )
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "invoice_upcoming_none":
                return None
            raise
        return preview.to_dict()

    def create_connected_account(self, email: str, metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        account = self._client.v1.accounts.create(
            params={
                "type": "express",
                "email": email,
                "metadata": metadata,
                "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            },
            options={"idempotency_key": idempotency_key},
        )
        return account.to_dict()

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        link = self._client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            }
        )
        return str(link["url"])

    def retrieve_account(self, account_id: str) -> dict[str, Any] | None:
        try:
            return self._client.v1.accounts.retrieve(account_id).to_dict()
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) in (403, 404):
                return None
            raise

    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        session = self._client.v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
        return str(session["url"])


def from_unix(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime; None for none."""
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def subscription_period_end(subscription: dict[str, Any]) -> int | None:
    """Since API 2025-03-31 the period lives on the items, not on the subscription."""
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    return max(ends) if ends else subscription.get("current_period_end")


def subscription_price_id(subscription: dict[str, Any]) -> str | None:
    items = (subscription.get("items") or {}).get("data") or []
    return ((items[0].get("price") or {}).get("id")) if items else None
