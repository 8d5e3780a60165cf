"""What each instance action consists of, and what it does to the instance's status."""

from __future__ import annotations

PROVISION = "provision"
START = "start"
STOP = "stop"
RESTART = "restart"
SUSPEND = "suspend"
RESUME = "resume"
APPLY_LIMITS = "apply_limits"
# a customer's domain was proven or removed: Coolify needs it in the application and a deploy (its Traefik
# routes come from the deployment); for Docker the edge's route changes and the container is left as it is
UPDATE_DOMAINS = "update_domains"
DEPROVISION = "deprovision"
# Before payment: what a paid instance needs is created (not started) while the customer is on the checkout page,
# so payment only has to start it. Best effort: a failure never touches the instance, payment provisions anyway.
PREPARE = "prepare"
RELEASE = "release"  # an abandoned checkout: remove what PREPARE created
BACKUP = "backup"  # a snapshot of the data volume into the backup store (params: backup_id)
# the data volume replaced by a backup's, after a backup of the current state (params: backup_id, safety_backup_id)
RESTORE = "restore"
# to another server: params source_server_id, target_server_id, backup_id, from_backup (services/provisioning/moves.py)
MIGRATE = "migrate"
BEST_EFFORT = (PREPARE, RELEASE)

STEPS: dict[str, tuple[str, ...]] = {
    PROVISION: (
        "prepare_config",
        "place",
        "prepare_backend",
        "deploy",
        "publish_proxy",
        "wait_healthy",
        "send_welcome",
    ),
    START: ("place", "prepare_backend", "start", "publish_proxy", "wait_healthy"),
    STOP: ("stop",),
    RESTART: ("restart", "publish_proxy", "wait_healthy"),
    SUSPEND: ("stop",),
    RESUME: ("place", "prepare_backend", "start", "publish_proxy", "wait_healthy"),
    APPLY_LIMITS: ("prepare_config", "deploy", "publish_proxy", "wait_healthy"),
    UPDATE_DOMAINS: ("prepare_config", "deploy", "publish_proxy", "wait_healthy"),
    DEPROVISION: ("unpublish_proxy", "destroy"),
    # No vhost yet: traffic that reaches a container while it starts stalls that container's network for a
    # whole SYN retransmit (1 s; seen through docker-proxy), so the route is published only once it has started.
    PREPARE: ("prepare_config", "place", "prepare_backend", "create"),
    RELEASE: ("unpublish_proxy", "destroy"),
    BACKUP: ("snapshot", "prune_backups"),
    RESTORE: ("snapshot_before_restore", "restore_volume", "start", "publish_proxy", "wait_healthy"),
    MIGRATE: (
        "stop",
        "prepare_target",
        "copy_to_target",
        "start_on_target",
        "publish_proxy",
        "wait_healthy",
        "remove_old_copy",
    ),
}

# None: the action leaves the instance's status as it is (the customer sees "awaiting payment" throughout).
STATUS_DURING: dict[str, str | None] = {
    PROVISION: "provisioning",
    START: "starting",
    STOP: "stopping",
    RESTART: "restarting",
    SUSPEND: "suspending",
    RESUME: "starting",
    APPLY_LIMITS: "updating",
    UPDATE_DOMAINS: "updating",
    DEPROVISION: "deprovisioning",
    PREPARE: None,
    RELEASE: None,
    BACKUP: None,
    RESTORE: "restoring",
    MIGRATE: "moving",
}
STATUS_AFTER: dict[str, str | None] = {
    PROVISION: "running",
    START: "running",
    STOP: "stopped",
    RESTART: "running",
    SUSPEND: "suspended",
    RESUME: "running",
    APPLY_LIMITS: "running",
    UPDATE_DOMAINS: "running",
    DEPROVISION: "deprovisioned",
    PREPARE: None,
    RELEASE: None,
    BACKUP: None,
    RESTORE: "running",
    MIGRATE: "running",
}
# What the instance should be once the action is done; None keeps the current wish.
DESIRED_AFTER: dict[str, str | None] = {
    PROVISION: "running",
    START: "running",
    STOP: "stopped",
    RESTART: "running",
    SUSPEND: "suspended",
    RESUME: "running",
    APPLY_LIMITS: None,
    UPDATE_DOMAINS: None,
    DEPROVISION: "deprovisioned",
    PREPARE: None,
    RELEASE: None,
    BACKUP: None,
    RESTORE: "running",
    MIGRATE: "running",
}

ACTIVE_STATUSES = ("queued", "running", "retrying")
