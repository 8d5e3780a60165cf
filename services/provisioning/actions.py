"""What each instance action consists of, and what it does to the instance's status."""

from __future__ import annotations

PROVISION = "provision"
START = "start"
STOP = "stop"
RESTART = "restart"
SUSPEND = "suspend"
RESUME = "resume"
APPLY_LIMITS = "apply_limits"
DEPROVISION = "deprovision"

STEPS: dict[str, tuple[str, ...]] = {
    PROVISION: ("prepare_config", "prepare_backend", "deploy", "publish_proxy", "wait_healthy", "send_welcome"),
    START: ("prepare_backend", "start", "publish_proxy", "wait_healthy"),
    STOP: ("stop",),
    RESTART: ("restart", "publish_proxy", "wait_healthy"),
    SUSPEND: ("stop",),
    RESUME: ("prepare_backend", "start", "publish_proxy", "wait_healthy"),
    APPLY_LIMITS: ("prepare_config", "deploy", "publish_proxy", "wait_healthy"),
    DEPROVISION: ("unpublish_proxy", "destroy"),
}

STATUS_DURING = {PROVISION: "provisioning", START: "starting", STOP: "stopping", RESTART: "restarting",
                 SUSPEND: "suspending", RESUME: "starting", APPLY_LIMITS: "updating", DEPROVISION: "deprovisioning"}
STATUS_AFTER = {PROVISION: "running", START: "running", STOP: "stopped", RESTART: "running", SUSPEND: "suspended",
                RESUME: "running", APPLY_LIMITS: "running", DEPROVISION: "deprovisioned"}
# What the instance should be once the action is done; None keeps the current wish.
DESIRED_AFTER: dict[str, str | None] = {PROVISION: "running", START: "running", STOP: "stopped", RESTART: "running",
                                        SUSPEND: "suspended", RESUME: "running", APPLY_LIMITS: None,
                                        DEPROVISION: "deprovisioned"}

ACTIVE_STATUSES = ("queued", "running", "retrying")
