"""Stripe for tests: events built from Stripe's own fixtures (../shared/specs), signed like Stripe signs them,
and a local HTTP server standing in for api.stripe.com that checks what we send (form encoding,
idempotency key, metadata) and answers with fixture-shaped objects."""

from __future__ import annotations

import copy
import functools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import stripe

from tests.support.env import SPECS, require_specs

FIXTURES = SPECS / "stripe-openapi-fixtures3.json"
API_VERSION = "2026-10-28.endive"


@functools.cache
def _load_fixtures() -> dict[str, Any]:
    return dict(json.loads(FIXTURES.read_text())["resources"])


def _fixtures() -> dict[str, Any]:
    require_specs()  # a clean skip with the reason when ../shared is not beside the checkout
    return _load_fixtures()


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def stripe_object(kind: str, **overrides: Any) -> dict[str, Any]:
    """A fixture object (checkout.session, subscription, invoice) with our overrides."""
    return _merge(_fixtures()[kind], overrides)


def subscription_object(
    sub_id: str,
    customer: str,
    price: str,
    status: str = "active",
    metadata: dict[str, str] | None = None,
    period_end: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    base = _fixtures()["subscription"]
    item = _merge(
        base["items"]["data"][0],
        {"price": {"id": price}, "current_period_end": period_end or int(time.time()) + 30 * 86400},
    )
    return _merge(
        base,
        {
            "id": sub_id,
            "customer": customer,
            "status": status,
            "metadata": metadata or {},
            "cancel_at_period_end": False,
            "canceled_at": None,
            "ended_at": None,
            "cancel_at": None,
            "items": {"data": [item]},
            **overrides,
        },
    )


def invoice_object(
    sub_id: str, customer: str, billing_reason: str = "subscription_create", status: str = "paid", **overrides: Any
) -> dict[str, Any]:
    obj = stripe_object(
        "invoice",
        id=f"in_{secrets.token_hex(6)}",
        customer=customer,
        status=status,
        billing_reason=billing_reason,
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
        **overrides,
    )
    obj.pop("subscription", None)  # stale key in the fixture; not part of the contract (CONTRACTS.md §2.2)
    return obj


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return _merge(
        _fixtures()["event"],
        {
            "id": event_id or f"evt_{secrets.token_hex(8)}",
            "type": event_type,
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": obj},
        },
    )


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


@dataclass
class FakeStripe:
    """State the fake API answers from; tests set `subscriptions` to what Stripe would currently say."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_with: int | None = None
    problems: list[str] = field(default_factory=list)
    on_request: Callable[[], None] | None = None  # runs while a request waits for its answer, as Stripe's latency
    prices: dict[str, int] = field(default_factory=dict)  # price id -> unit amount, for invoice previews
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # connected accounts (Stripe Connect)


REQUIRED_CHECKOUT = (
    "mode",
    "line_items[0][price]",
    "line_items[0][quantity]",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "metadata[organization_id]",
    "metadata[portal_subscription_id]",
    "subscription_data[metadata][organization_id]",
    "subscription_data[metadata][portal_subscription_id]",
)


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            fake.problems.append(message)
            self._reply(status, {"error": {"type": "invalid_request_error", "message": message}})

        def _record(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            entry = {
                "method": self.command,
                "path": urlparse(self.path).path,
                "headers": dict(self.headers),
                "raw": raw,
                "form": {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()},
            }
            fake.requests.append(entry)
            if fake.on_request is not None:
                fake.on_request()
            return entry

        def _checks(self, entry: dict[str, Any]) -> bool:
            if fake.fail_with:
                self._reply(fake.fail_with, {"error": {"type": "api_error", "message": "fake outage"}})
                return False
            if not entry["headers"].get("Authorization", "").startswith("Bearer sk_test_"):
                self._error(401, "missing or wrong API key")
                return False
            if (
                entry["method"] == "POST"
                and entry["headers"].get("Content-Type") != "application/x-www-form-urlencoded"
            ):
                self._error(400, "body must be form-encoded")
                return False
            return True

        def do_POST(self) -> None:
            entry = self._record()
            if not self._checks(entry):
                return
            form, path = entry["form"], entry["path"]
            if path == "/v1/checkout/sessions":
                if self._bad_checkout_params(form):
                    return None
                missing = [k for k in REQUIRED_CHECKOUT if k not in form]
                if missing or form.get("mode") != "subscription" or not entry["headers"].get("Idempotency-Key"):
                    return self._error(400, f"checkout create: missing {missing} or mode/idempotency key")
                session_id = f"cs_test_{secrets.token_hex(12)}"
                obj = stripe_object(
                    "checkout.session",
                    id=session_id,
                    mode="subscription",
                    status="open",
                    client_reference_id=form["client_reference_id"],
                    url=f"{fake.url}/pay/{session_id}",
                    success_url=form["success_url"],
                    cancel_url=form["cancel_url"],
                    metadata={k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                )
                return self._reply(200, obj)
            if path.startswith("/v1/subscriptions/"):
                return self._update_subscription(path.rsplit("/", 1)[1], form)
            if path == "/v1/invoices/create_preview":
                return self._preview_invoice(form)
            if path == "/v1/accounts":
                return self._create_account(form, entry)
            if path == "/v1/account_links":
                return self._account_link(form)
            if path == "/v1/billing_portal/sessions":
                if "customer" not in form:
                    return self._error(400, "customer is required")
                return self._reply(
                    200,
                    {"id": "bps_1", "object": "billing_portal.session", "url": f"{fake.url}/portal/{form['customer']}"},
                )
            self._error(404, f"unknown path {path}")

        def _unknown_params(self, form: dict[str, str], params_class: type) -> bool:
            """Stripe refuses parameters it does not know: the top-level names are checked against the typed
            parameters of the stripe library (generated from Stripe's OpenAPI spec)."""
            known = set(params_class.__annotations__)
            unknown = sorted({name.split("[", 1)[0] for name in form} - known)
            if unknown:
                self._error(400, f"Received unknown parameters: {', '.join(unknown)}")
            return bool(unknown)

        def _bad_checkout_params(self, form: dict[str, str]) -> bool:
            """Top-level and `subscription_data[...]` names checked against stripe's typed parameters; Connect's
            destination charges need both the destination and a fee within 0-100."""
            from stripe.params.checkout._session_create_params import (
                SessionCreateParams,
                SessionCreateParamsSubscriptionData,
            )

            if self._unknown_params(form, SessionCreateParams):
                return True
            nested = {
                k[len("subscription_data[") :].replace("]", "", 1): v
                for k, v in form.items()
                if k.startswith("subscription_data[")
            }
            if self._unknown_params(nested, SessionCreateParamsSubscriptionData):
                return True
            fee = form.get("subscription_data[application_fee_percent]")
            if fee is not None:
                try:
                    ok = 0 <= float(fee) <= 100 and "subscription_data[transfer_data][destination]" in form
                except ValueError:
                    ok = False
                if not ok:
                    self._error(400, f"Invalid application_fee_percent: {fee}")
                    return True
            destination = form.get("subscription_data[transfer_data][destination]")
            if destination is not None and destination not in fake.accounts:
                self._error(400, f"No such destination: '{destination}'")
                return True
            return False

        def _create_account(self, form: dict[str, str], entry: dict[str, Any]) -> None:
            from stripe.params._account_create_params import AccountCreateParams

            if self._unknown_params(form, AccountCreateParams):
                return None
            if form.get("type") not in ("express", "standard", "custom") or not entry["headers"].get("Idempotency-Key"):
                return self._error(400, "account create: type and an idempotency key are required")
            account_id = f"acct_{secrets.token_hex(8)}"
            account = stripe_object(
                "account",
                id=account_id,
                type=form["type"],
                email=form.get("email"),
                charges_enabled=False,
                payouts_enabled=False,
                details_submitted=False,
                metadata={k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            )
            fake.accounts[account_id] = account
            return self._reply(200, account)

        def _account_link(self, form: dict[str, str]) -> None:
            from stripe.params._account_link_create_params import AccountLinkCreateParams

            if self._unknown_params(form, AccountLinkCreateParams):
                return None
            missing = [k for k in ("account", "refresh_url", "return_url", "type") if not form.get(k)]
            if missing or form["type"] not in ("account_onboarding", "account_update"):
                return self._error(400, f"account link: missing {missing} or a wrong type")
            if form["account"] not in fake.accounts:
                return self._error(404, f"No such account: '{form['account']}'")
            return self._reply(200, {"object": "account_link", "url": f"{fake.url}/onboard/{form['account']}"})

        def _update_subscription(self, sub_id: str, form: dict[str, str]) -> None:
            from stripe.params._subscription_update_params import SubscriptionUpdateParams

            if self._unknown_params(form, SubscriptionUpdateParams):
                return None
            if sub_id not in fake.subscriptions:
                return self._error(404, f"No such subscription: '{sub_id}'")
            behaviour = form.get("proration_behavior")
            if behaviour is not None and behaviour not in ("always_invoice", "create_prorations", "none"):
                return self._error(400, f"Invalid proration_behavior: {behaviour}")
            subscription = fake.subscriptions[sub_id]
            if "cancel_at_period_end" in form:
                if form["cancel_at_period_end"] not in ("true", "false"):
                    return self._error(400, "Invalid boolean: cancel_at_period_end")
                subscription["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
            for name, value in form.items():
                if name.startswith("metadata["):
                    metadata = subscription.setdefault("metadata", {})
                    if value == "":
                        metadata.pop(name[9:-1], None)  # Stripe: an empty value removes the key
                    else:
                        metadata[name[9:-1]] = value
            price = form.get("items[0][price]")
            if price:
                if "items[0][id]" not in form:
                    return self._error(400, "items[0][id] is required to change an existing item's price")
                subscription["items"]["data"][0]["price"]["id"] = price
            return self._reply(200, subscription)

        def _preview_invoice(self, form: dict[str, str]) -> None:
            from stripe.params._invoice_create_preview_params import InvoiceCreatePreviewParams

            if self._unknown_params(form, InvoiceCreatePreviewParams):
                return None
            subscription = fake.subscriptions.get(form.get("subscription", ""))
            if subscription is None or subscription.get("customer") != form.get("customer"):
                return self._error(404, "No such subscription for this customer")
            if subscription.get("cancel_at_period_end") or subscription.get("status") == "canceled":
                data = {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "invoice_upcoming_none",
                        "message": "No upcoming invoices for customer",
                    }
                }
                return self._reply(400, data)
            item = subscription["items"]["data"][0]
            amount = fake.prices.get(item["price"]["id"], 0)
            preview = stripe_object(
                "invoice",
                id=None,
                customer=subscription["customer"],
                status="draft",
                amount_due=amount,
                total=amount,
                currency="usd",
                next_payment_attempt=item["current_period_end"],
            )
            return self._reply(200, preview)

        def do_DELETE(self) -> None:
            entry = self._record()
            if not self._checks(entry):
                return None
            path = entry["path"]
            if not path.startswith("/v1/subscriptions/"):
                return self._error(404, f"unknown path {path}")
            from stripe.params._subscription_cancel_params import SubscriptionCancelParams

            if self._unknown_params(entry["form"], SubscriptionCancelParams):
                return None
            subscription = fake.subscriptions.get(path.rsplit("/", 1)[1])
            if subscription is None:
                return self._error(404, "No such subscription")
            subscription.update(status="canceled", ended_at=int(time.time()), canceled_at=int(time.time()))
            return self._reply(200, subscription)

        def do_GET(self) -> None:
            entry = self._record()
            if not self._checks(entry):
                return
            path = entry["path"]
            if path.startswith("/v1/subscriptions/"):
                sub_id = path.rsplit("/", 1)[1]
                if sub_id in fake.subscriptions:
                    return self._reply(200, fake.subscriptions[sub_id])
                return self._error(404, f"No such subscription: '{sub_id}'")
            if path.startswith("/v1/accounts/"):
                account_id = path.rsplit("/", 1)[1]
                if account_id in fake.accounts:
                    return self._reply(200, fake.accounts[account_id])
                return self._error(404, f"No such account: '{account_id}'")
            self._error(404, f"unknown path {path}")

    return Handler


@contextmanager
def fake_stripe_server() -> Iterator[FakeStripe]:
    require_specs()  # skip here, in the test's thread: the server thread answers from Stripe's fixtures
    fake = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
