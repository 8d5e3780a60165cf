"""POST /api/stripe/webhook: verification, storage before acknowledgement, duplicates, bad input."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from services.models import Instance, StripeEvent, Subscription
from tests.support.asgi import run_in_own_loop
from tests.support.billing import SECRET, Billing, checkout_completed, instance, paid_customer, payload, subscription
from tests.support.stripe_support import event, invoice_object, sign, stripe_object


def _events(db: Session) -> int:
    return db.exec(select(func.count()).select_from(StripeEvent)).one()


def test_checkout_completed_activates_and_provisions_exactly_once(db: Session, billing: Billing) -> None:
    customer = paid_customer(db, billing)
    assert instance(db, customer).status == "awaiting_payment"
    body = payload(checkout_completed(customer))

    assert billing.post(body) == (200, {"received": True})
    assert billing.post(body) == (200, {"received": True, "duplicate": True})

    assert _events(db) == 1
    stored = db.exec(select(StripeEvent)).one()
    assert stored.status == "processed" and stored.type == "checkout.session.completed"
    assert db.exec(text("SELECT payload FROM stripe_event")).one()[0] == body  # type: ignore[call-overload]
    sub = subscription(db, customer)
    assert sub.status == "active" and sub.stripe_subscription_id == customer.stripe_subscription_id
    assert sub.stripe_customer_id == customer.customer_id and sub.current_period_end is not None
    assert instance(db, customer).status == "provisioning"
    assert len(billing.provisioning) == 1  # one provision action, despite the duplicate delivery
    fetched = [
        r for r in billing.stripe.requests if r["path"] == f"/v1/subscriptions/{customer.stripe_subscription_id}"
    ]
    assert fetched, "the subscription is re-fetched from Stripe, not trusted from the event"


@pytest.mark.parametrize(
    ("case", "make_header", "body_change"),
    [
        ("missing header", lambda body: None, None),
        ("malformed header", lambda body: "this is not a signature", None),
        ("wrong secret", lambda body: sign(body, "whsec_someone_else"), None),
        ("stale timestamp", lambda body: sign(body, SECRET, int(time.time()) - 3600), None),
        ("truncated body", lambda body: sign(body, SECRET), lambda body: body[: len(body) // 2]),
        ("tampered body", lambda body: sign(body, SECRET), lambda body: body.replace("complete", "COMPLETE")),
    ],
)
def test_bad_signatures_get_400_and_leave_no_trace(
    db: Session,
    billing: Billing,
    case: str,
    make_header,
    body_change,  # type: ignore[no-untyped-def]
) -> None:
    customer = paid_customer(db, billing)
    body = payload(checkout_completed(customer))
    header = make_header(body)
    sent = body_change(body) if body_change else body
    status, answer = billing.post(sent, header if header is not None else False)  # type: ignore[arg-type]
    assert status == 400 and "error" in answer, case
    assert _events(db) == 0
    assert subscription(db, customer).status == "incomplete"


def test_signed_non_json_body_is_rejected(db: Session, billing: Billing) -> None:
    body = "this is not json"
    assert billing.post(body)[0] == 400
    body = json.dumps({"hello": "world"})  # JSON, but not a Stripe event
    assert billing.post(body)[0] == 400
    assert _events(db) == 0


def test_unknown_event_types_are_stored_and_marked_ignored(db: Session, billing: Billing) -> None:
    body = json.dumps(event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}))
    assert billing.post(body) == (200, {"received": True})
    stored = db.exec(select(StripeEvent)).one()
    assert stored.status == "ignored" and stored.error == "event type not handled"


def test_events_for_unknown_customers_are_ignored_and_change_nothing(db: Session, billing: Billing) -> None:
    paid_customer(db, billing)
    stranger = stripe_object(
        "checkout.session",
        id="cs_stranger",
        mode="subscription",
        status="complete",
        customer="cus_stranger",
        subscription="sub_stranger",
        metadata={},
    )
    before = [(s.id, s.status, s.stripe_subscription_id) for s in db.exec(select(Subscription)).all()]
    assert billing.post(json.dumps(event("checkout.session.completed", stranger)))[0] == 200
    stored = db.exec(select(StripeEvent)).one()
    assert stored.status == "ignored" and "no matching customer" in (stored.error or "")
    db.expire_all()
    assert [(s.id, s.status, s.stripe_subscription_id) for s in db.exec(select(Subscription)).all()] == before
    assert db.exec(select(Instance)).one().status == "awaiting_payment"


def test_a_failing_handler_keeps_the_event_for_retry_and_replay(db: Session, billing: Billing) -> None:
    from services.billing.handlers import replay

    customer = paid_customer(db, billing)
    billing.stripe.fail_with = 500
    body = payload(checkout_completed(customer))
    status, _ = billing.post(body)
    assert status == 200  # acknowledged: the event is safe in our table even though handling failed
    stored = db.exec(select(StripeEvent)).one()
    assert stored.status == "failed" and stored.error
    assert subscription(db, customer).status == "incomplete"

    billing.stripe.fail_with = None
    assert replay(stored.stripe_id) == "processed"
    assert subscription(db, customer).status == "active"


def test_storage_waits_for_a_sqlite_write_lock_held_elsewhere_instead_of_failing(db: Session) -> None:
    """The consumer may hold SQLite's write lock; the event store must wait for it, not answer 500."""
    import sqlite3

    from services.billing.event_store import store
    from services.config import get_settings

    holder = sqlite3.connect(get_settings().database_url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        future = store.submit(json.loads(payload(event("customer.updated", stripe_object("customer")))))
        time.sleep(0.2)
        assert not future.done()
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert future.result(timeout=10) is True
    assert _events(db) == 1


def test_no_write_lock_is_held_while_stripe_is_asked(db: Session, billing: Billing) -> None:
    """On SQLite the webhook route needs the only write lock; a handler waiting for Stripe must not hold it."""
    import sqlite3

    from services.config import get_settings

    lock_free: list[bool] = []

    def try_to_write() -> None:
        other = sqlite3.connect(get_settings().database_url.split("///", 1)[1], timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            lock_free.append(True)
        except sqlite3.OperationalError:
            lock_free.append(False)
        finally:
            other.close()

    customer = paid_customer(db, billing)
    billing.stripe.on_request = try_to_write
    assert billing.post(payload(checkout_completed(customer)))[0] == 200
    assert (
        billing.post(
            payload(event("invoice.paid", invoice_object(customer.stripe_subscription_id, customer.customer_id)))
        )[0]
        == 200
    )
    billing.stripe.on_request = None

    assert lock_free == [True, True]  # one fetch per event, neither inside a write transaction
    assert subscription(db, customer).status == "active"
    assert [e.status for e in db.exec(select(StripeEvent)).all()] == ["processed", "processed"]


def test_on_sqlite_two_consumer_threads_never_handle_at_the_same_time(db: Session, billing: Billing) -> None:
    """SQLite has no row locks: without one handler at a time, the older of two fetched truths could land last."""
    import threading

    from services.billing.handlers import handle

    customer = paid_customer(db, billing)
    for evt in (
        checkout_completed(customer),
        event("invoice.paid", invoice_object(customer.stripe_subscription_id, customer.customer_id)),
    ):
        db.add(StripeEvent(stripe_id=evt["id"], type=evt["type"], payload=evt, status="pending"))
    db.commit()
    in_flight, most = [0], [0]

    def slow_stripe() -> None:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        time.sleep(0.3)
        in_flight[0] -= 1

    billing.stripe.on_request = slow_stripe
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=lambda sid=e.stripe_id: outcomes.append(handle(sid)))
        for e in db.exec(select(StripeEvent)).all()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert outcomes == ["processed", "processed"]
    assert most[0] == 1  # the second handler asked Stripe only after the first had finished


def test_on_sqlite_the_timeline_job_waits_for_a_handler_that_is_asking_stripe(
    db: Session, billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic job writes the same subscriptions; between a handler's read and its write it would be lost."""
    import threading

    from services.billing import lifecycle, tasks
    from services.billing.handlers import handle
    from services.billing.tasks import enforce_billing_timeline

    customer = paid_customer(db, billing)
    evt = checkout_completed(customer)
    db.add(StripeEvent(stripe_id=evt["id"], type=evt["type"], payload=evt, status="pending"))
    db.commit()
    moments: dict[str, float] = {}
    real_enforce = lifecycle.enforce_timeline

    def slow_stripe() -> None:
        time.sleep(0.3)
        moments["stripe answered"] = time.monotonic()

    def timeline(session: Session) -> None:
        moments["timeline ran"] = time.monotonic()
        real_enforce(session)

    billing.stripe.on_request = slow_stripe
    monkeypatch.setattr(tasks, "enforce_timeline", timeline)
    handler = threading.Thread(target=handle, args=(evt["id"],))
    handler.start()
    time.sleep(0.1)  # the handler is waiting for Stripe
    enforce_billing_timeline.call_local()
    handler.join(timeout=10)

    assert moments["timeline ran"] > moments["stripe answered"]
    assert subscription(db, customer).status == "active"


def test_the_webhook_is_answered_in_front_of_reflex_and_other_paths_still_reach_it(
    db: Session, billing: Billing
) -> None:
    """Production composition (portal.portal.PortalApp): the webhook's and the health check's paths never reach
    Reflex's app (a load balancer's polls skip its middleware too)."""
    customer = paid_customer(db, billing)
    assert billing.post(payload(checkout_completed(customer))) == (200, {"received": True})
    refused = billing.client.get("/api/stripe/webhook")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert billing.client.get("/api/health").status_code in (200, 503)  # our route, in front of Reflex
    assert billing.client.post("/api/health").status_code == 405
    page = billing.client.get("/dashboard")
    assert (page.status_code, page.text) == (418, "reflex")
    assert billing.reached_reflex_top == ["/dashboard"]  # never the webhook's nor the health check's path


def test_concurrent_deliveries_on_one_event_loop_are_each_told_new_or_duplicate(db: Session) -> None:
    """The route's async store answers a whole batch at once; every waiting request still gets its own answer."""
    import asyncio

    from services.billing.event_store import store

    events = [json.loads(payload(event("customer.updated", stripe_object("customer")))) for _ in range(15)]

    async def deliver_all() -> list[bool]:
        return await asyncio.gather(*(store.store(e, json.dumps(e)) for e in events + events[:5]))

    answers = run_in_own_loop(deliver_all())
    assert answers == [True] * 15 + [False] * 5  # queued in order: each event's first delivery is the new one
    assert _events(db) == 15
