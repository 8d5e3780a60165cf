"""The job consumer's entry point: the one huey instance with every domain's tasks registered on it.

`huey_consumer services.worker.huey` runs it. Every process that queues work (the web app, the CLI) imports this
module too, so each domain's task module has connected its domain to the queue before the first job is queued.
"""

from __future__ import annotations

from services.accounts import tasks as accounts_tasks
from services.billing import tasks as billing_tasks
from services.jobs import heartbeat
from services.jobs.queue import huey
from services.mail import outgoing as mail_tasks
from services.provisioning import tasks as provisioning_tasks

__all__ = ["accounts_tasks", "billing_tasks", "heartbeat", "huey", "mail_tasks", "provisioning_tasks"]
