"""The gateway's periodic repair: every live key's rules written again, every dead key forgotten (services/gateway/
sync.py). Changes reach the cache within a second through the commit hook; this covers what that cannot (a
flushed Redis, a process killed between a commit and its write)."""

from __future__ import annotations

from huey import crontab

from services.db import session_scope
from services.gateway.health import check_gateway
from services.gateway.sync import enabled, sync_all
from services.jobs.queue import periodic_task
from services.ops import incidents

GATEWAY_INCIDENT = "ai-gateway"


@periodic_task(crontab(minute="*"), period_seconds=60)
def sync_gateway_keys() -> None:
    if enabled():
        sync_all()
        watch_gateway()


def watch_gateway() -> None:
    """A gateway that stops answering is an incident for the platform's staff (one e-mail, a console notice);
    it is resolved once the gateway answers again."""
    health = check_gateway(fresh=True)
    if health is None:
        return
    with session_scope() as session:
        if health["ok"]:
            incidents.resolve_incident(session, incidents.BACKEND_DOWN, GATEWAY_INCIDENT)
        else:
            incidents.raise_incident(
                session,
                incidents.BACKEND_DOWN,
                GATEWAY_INCIDENT,
                title="The AI gateway is not answering",
                detail=f"{health['url']}: {health.get('error', 'no answer')}. Instances cannot spend through it.",
            )
