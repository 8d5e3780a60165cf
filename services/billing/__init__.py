"""Billing: plans, Stripe checkout and webhooks, subscription lifecycle."""
