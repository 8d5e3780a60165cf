"""The baseline for bench/webhooks.py: a bare Starlette route that only verifies the Stripe signature."""

import os

import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]


async def webhook(request: Request) -> JSONResponse:
    body = (await request.body()).decode()
    try:
        stripe.WebhookSignature.verify_header(body, request.headers.get("stripe-signature", ""), SECRET, 300)
    except stripe.SignatureVerificationError:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    return JSONResponse({"received": True})


app = Starlette(routes=[Route("/api/stripe/webhook", webhook, methods=["POST"])])
