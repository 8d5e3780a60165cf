"""The job consumer's entry point: the one huey instance with every domain's tasks registered on it.

`huey_consumer services.worker.huey` runs it. Every process that queues work (the web app, the CLI) imports this
module too, so each domain's task module has connected its domain to the queue before the first job is queued.
"""

from __future__ import annotations

from services.accounts import tasks as accounts_tasks
from services.billing import tasks as billing_tasks
from services.domains import tasks as domain_tasks
from services.gateway import tasks as gateway_tasks
from services.jobs import heartbeat
from services.jobs.queue import huey, on_consumer_start
from services.mail import outgoing as mail_tasks
from services.ops.logs import configure_logging
from services.privacy import tasks as privacy_tasks
from services.provisioning import tasks as provisioning_tasks
from services.webhooks import tasks as webhook_tasks


@on_consumer_start()
def one_log_format() -> None:
    """The consumer writes its lines like the web process does: with the request id, as text or JSON."""
    configure_logging(replace_others=True)


__all__ = [
    "accounts_tasks",
    "billing_tasks",
    "domain_tasks",
    "gateway_tasks",
    "heartbeat",
    "huey",
    "mail_tasks",
    "privacy_tasks",
    "provisioning_tasks",
    "webhook_tasks",
]
