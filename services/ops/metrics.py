"""Prometheus metrics: what each process counts as it works, and what the database knows, read at scrape time.

Counters and histograms live in the process that observes them (web workers, job consumers). `make run` sets
PROMETHEUS_MULTIPROC_DIR for all of them, so one scrape of /metrics on any web worker adds up every process
(prometheus-client's multi-process mode). Levels that the database holds (webhook backlog, queue depth and
age, parked actions, instances by status, open incidents) are read when scraped, so they are right whichever
process answers and however many there are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import col, select

from services.db import session_scope
from services.jobs.queue import huey
from services.models import Incident, Instance, ProvisioningAction, StripeEvent
from services.models.base import utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by route group",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_DELIVERIES = Counter(
    "portal_webhook_deliveries_total", "Stripe deliveries answered, by outcome", ["outcome"]
)  # new | duplicate | rejected | error
STEP_SECONDS = Histogram(
    "portal_provisioning_step_duration_seconds",
    "Time one provisioning step took, by action, step and outcome",
    ["action", "step", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
STEP_FAILURES = Counter("portal_provisioning_step_failures_total", "Provisioning steps that failed", ["action", "step"])
BUDGET_ALERTS = Counter("portal_budget_alerts_sent_total", "Budget alert e-mails queued, by threshold", ["percent"])
INCIDENTS_OPENED = Counter("portal_incidents_opened_total", "Incidents opened (one staff e-mail each)", ["kind"])


def route_group(path: str) -> str:
    """A handful of names, never the path itself: ids in paths would make one time series per customer."""
    if path == "/api/stripe/webhook":
        return "webhook"
    if path.startswith("/api/v1/"):
        return "api"
    if path == "/api/health":
        return "health"
    if path == "/metrics":
        return "metrics"
    if path.startswith("/api/brand-assets/"):
        return "brand_assets"
    if path.startswith("/_upload"):
        return "upload"
    return "other"


def _age_seconds(oldest: datetime | None, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


class DatabaseCollector(Collector):
    """Levels read from the portal's own database and the queue at scrape time."""

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with session_scope() as session:
            backlog = session.exec(
                select(func.count(), func.min(col(StripeEvent.received_at))).where(
                    col(StripeEvent.status).in_(("pending", "failed"))
                )
            ).one()
            queued = session.exec(
                select(func.count(), func.min(col(ProvisioningAction.created_at))).where(
                    col(ProvisioningAction.status).in_(("queued", "retrying"))
                )
            ).one()
            parked = session.exec(
                select(func.count()).select_from(ProvisioningAction).where(col(ProvisioningAction.status) == "parked")
            ).one()
            by_status = session.exec(select(col(Instance.status), func.count()).group_by(col(Instance.status))).all()
            incidents = session.exec(
                select(col(Incident.kind), func.count())
                .where(col(Incident.resolved_at).is_(None))
                .group_by(col(Incident.kind))
            ).all()
        yield _gauge(
            "portal_webhook_backlog", "Stripe events stored but not handled yet (pending or failed)", backlog[0]
        )
        yield _gauge(
            "portal_webhook_oldest_unhandled_seconds",
            "Age of the oldest unhandled Stripe event",
            _age_seconds(backlog[1], now),
        )
        yield _gauge("portal_job_queue_depth", "Jobs waiting in the queue", huey.pending_count())
        yield _gauge(
            "portal_provisioning_oldest_waiting_seconds",
            "Age of the oldest provisioning action waiting to run (queued or retrying)",
            _age_seconds(queued[1], now),
        )
        yield _gauge("portal_provisioning_waiting", "Provisioning actions waiting to run", queued[0])
        yield _gauge("portal_parked_actions", "Provisioning actions parked for an admin", parked)
        instances = GaugeMetricFamily("portal_instances", "Instances by status", labels=["status"])
        for status, count in sorted(by_status):
            instances.add_metric([status], count)
        yield instances
        open_incidents = GaugeMetricFamily("portal_open_incidents", "Open incidents by kind", labels=["kind"])
        for kind, count in sorted(incidents):
            open_incidents.add_metric([kind], count)
        yield open_incidents


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


_levels = CollectorRegistry(auto_describe=False)
_levels.register(DatabaseCollector())


def render() -> bytes:
    """The scrape: every process's counters (multi-process mode when configured), then the levels."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # its __init__ is unannotated
        processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    return processes + generate_latest(_levels)


class Timer:
    """`with Timer() as t: ...` then `t.seconds`."""

    def __enter__(self) -> Timer:
        self._started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._started
