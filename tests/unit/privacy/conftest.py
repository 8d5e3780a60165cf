"""The privacy tests buy plans in test mode: the local Stripe stand-in's events reach the real webhook route."""

from tests.unit.billing.conftest import webhook_route

__all__ = ["webhook_route"]
