"""How people read the provisioning engine's words: its actions, steps and instance statuses, as the dashboard
and the customer's history say them."""

from __future__ import annotations

from services.i18n import N_
from services.i18n.message import Message, say
from services.models import Instance

ACTION_LABELS = {
    "provision": N_("Setting up your instance"),
    "prepare": N_("Preparing your instance"),
    "release": N_("Releasing an unpaid instance"),
    "start": N_("Start"),
    "stop": N_("Stop"),
    "restart": N_("Restart"),
    "suspend": N_("Suspension"),
    "resume": N_("Resumption"),
    "apply_limits": N_("Applying your plan's limits"),
    "update_domains": N_("Updating your addresses"),
    "deprovision": N_("Removal"),
    "backup": N_("Backup"),
    "restore": N_("Restore from a backup"),
    "migrate": N_("Move to another server"),
}
STEP_LABELS = {
    "prepare_config": N_("Preparing configuration"),
    "prepare_backend": N_("Creating network and storage"),
    "deploy": N_("Starting your instance"),
    "start": N_("Starting your instance"),
    "restart": N_("Restarting"),
    "stop": N_("Stopping"),
    "publish_proxy": N_("Connecting your address"),
    "unpublish_proxy": N_("Disconnecting your address"),
    "wait_healthy": N_("Waiting for it to answer"),
    "send_welcome": N_("Sending your welcome e-mail"),
    "destroy": N_("Removing"),
    "place": N_("Choosing a server"),
    "snapshot": N_("Backing up your data"),
    "prune_backups": N_("Removing the oldest backups"),
    "snapshot_before_restore": N_("Backing up the current data"),
    "restore_volume": N_("Restoring your data"),
    "prepare_target": N_("Preparing its new server"),
    "copy_to_target": N_("Copying your data to its new server"),
    "start_on_target": N_("Starting on its new server"),
    "remove_old_copy": N_("Removing the old copy"),
}


def status_said(instance: Instance) -> Message:
    """The instance's status as a person reads it, in whichever language it is shown."""
    return say(STATUS_LABELS.get(instance.status, N_("Checking")))


STATUS_LABELS = {
    "awaiting_payment": N_("Waiting for payment"),
    "pending": N_("Queued"),
    "provisioning": N_("Being prepared"),
    "running": N_("Running"),
    "stopped": N_("Stopped"),
    "starting": N_("Starting"),
    "stopping": N_("Stopping"),
    "restarting": N_("Restarting"),
    "suspending": N_("Suspending"),
    "suspended": N_("Suspended"),
    "updating": N_("Applying changes"),
    "restoring": N_("Restoring a backup"),
    "moving": N_("Moving to another server"),
    "deprovisioning": N_("Being removed"),
    "deprovisioned": N_("Removed"),
    "error": N_("Needs attention"),
    "unknown": N_("Checking"),
}
