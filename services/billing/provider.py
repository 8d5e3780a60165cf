"""Which payment provider this portal talks to: real Stripe with keys, the local test mode without."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from services.billing.gateway import BillingGateway, StripeGateway
from services.billing.local import LocalGateway
from services.config import get_settings
from services.errors import ValidationFailed
from services.i18n.catalog import N_

PROVIDER_DOWN = N_("The payment provider cannot be reached right now. Nothing was created; please try again shortly.")


@contextmanager
def provider_errors() -> Iterator[None]:
    """Around a call to Stripe: our own refusals pass through as they are; anything else (the network, Stripe's
    5xx, an answer we did not expect) becomes the one clear message, so the caller's transaction rolls back."""
    try:
        yield
    except ValidationFailed:
        raise
    except Exception as exc:
        raise ValidationFailed.single("", PROVIDER_DOWN) from exc


class PaymentsNotConfigured(RuntimeError):
    """Production without Stripe keys and without ALLOW_TEST_CHECKOUT: nothing may be sold."""


def get_gateway() -> BillingGateway:
    settings = get_settings()
    if settings.stripe_secret_key:
        return StripeGateway()
    if not settings.test_checkout_enabled:
        raise PaymentsNotConfigured("Online payment is not configured (STRIPE_SECRET_KEY is not set).")

    return LocalGateway()
