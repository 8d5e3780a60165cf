"""Coolify backend: one Coolify environment per customer, one compose application from a private git repository.

Everything is found again by name (environment = subdomain, application = the resource name), so a crash between
any two calls resumes without a second environment, application or variable. After every change the application
is read back and compared with what was sent; a difference is re-applied once and then parked with a message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from services.config import Settings, get_settings
from services.provisioning.backends.base import Placement
from services.provisioning.coolify.client import CoolifyClient, CoolifyRejected
from services.provisioning.coolify.rules import COMPOSE_LOCATION, ENV_KEY, ENVIRONMENT_NAME, parse_status, shell_safe
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.labels import resource_name, traefik_labels
from services.provisioning.spec import InstanceSpec

log = logging.getLogger(__name__)

STRATEGIES = ("compose_domains", "build_script")
BUILD_SCRIPT = "CUSTOM_DOMAIN={domain} APP_UUID={uuid} sh ./scripts/coolify-build.sh"
START_COMMAND = (
    "docker compose --env-file /artifacts/build-time.env -f docker-compose.yaml -f docker-compose.override.yaml up -d"
)
FINISHED, FAILED = "finished", ("failed", "cancelled-by-user")
COMPOSE_LOAD_WAIT_SECONDS = 20.0  # how long a first deploy waits for Coolify to load the compose file
LOG_TAIL_LINES = 8
NOT_RUNNING_MESSAGE = "The application is not running, so it has no logs to show. Start it and try again."


class CoolifyBackend:
    name = "coolify"

    def __init__(
        self,
        client: CoolifyClient | None = None,
        settings: Settings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings or get_settings()
        self._client = client
        self._sleep = sleep
        for name in ("coolify_project_uuid", "coolify_server_uuid", "coolify_private_key_uuid"):
            if not getattr(self._settings, name):
                raise PermanentError(f"Coolify is not configured: set {name.upper()}.")

    @property
    def health_pacing(self) -> tuple[float, float, float]:
        """The health wait's first delay, growth and longest delay: every look is an API call of the budget."""
        return self._settings.coolify_poll_seconds, 1.5, self._settings.coolify_poll_max_seconds

    @property
    def client(self) -> CoolifyClient:
        if self._client is None:
            self._client = CoolifyClient.from_settings(self._settings)
        return self._client

    # --- names and payloads ----------------------------------------------------------------------------------------

    @staticmethod
    def environment_name(spec: InstanceSpec) -> str:
        name = spec.subdomain if len(spec.subdomain) >= 3 else f"{spec.subdomain}-env"
        if not ENVIRONMENT_NAME.match(name) or name in ("environments", "envs"):
            raise PermanentError(f"{name!r} cannot be a Coolify environment name.")
        return name

    @staticmethod
    def _template(spec: InstanceSpec) -> dict[str, Any]:
        settings = spec.template_settings
        strategy = settings.get("domain_strategy", "compose_domains")
        if strategy not in STRATEGIES:
            raise PermanentError(f"Unknown domain strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
        if not settings.get("git_repository"):
            raise PermanentError("The app template names no git repository.")
        location = settings.get("compose_location", "/docker-compose.yaml")
        if not COMPOSE_LOCATION.match(location):
            raise PermanentError(f"Compose file location {location!r} is not allowed by Coolify.")
        return {
            "strategy": strategy,
            "repository": settings["git_repository"],
            "branch": settings.get("git_branch", "main"),
            "location": location,
            "service": settings.get("compose_service", "app"),
        }

    def _create_payload(self, spec: InstanceSpec) -> dict[str, Any]:
        template = self._template(spec)
        return {
            "project_uuid": self._settings.coolify_project_uuid,
            # the pool's server it was placed on (services/capacity), else the one COOLIFY_SERVER_UUID names
            "server_uuid": (spec.server.address if spec.server and spec.server.address else None)
            or self._settings.coolify_server_uuid,
            "environment_name": self.environment_name(spec),
            "private_key_uuid": self._settings.coolify_private_key_uuid,
            "git_repository": template["repository"],
            "git_branch": template["branch"],
            "build_pack": "dockercompose",
            "docker_compose_location": template["location"],
            "name": resource_name(spec.subdomain),
            "description": f"Portal instance {spec.subdomain}",
            "instant_deploy": False,
        }

    def _commands(self, spec: InstanceSpec, uuid: str) -> dict[str, str]:
        commands = {
            "docker_compose_custom_build_command": BUILD_SCRIPT.format(domain=spec.domain, uuid=uuid),
            "docker_compose_custom_start_command": START_COMMAND,
        }
        for key, command in commands.items():
            if not shell_safe(command):
                raise PermanentError(f"{key} would be refused by Coolify as not shell-safe: {command!r}")
        return commands

    def env_items(self, spec: InstanceSpec, uuid: str) -> list[dict[str, Any]]:
        """Every variable with the full flag set: Coolify's update resets any flag that is left out."""
        values = dict(spec.env)
        values.setdefault("CUSTOM_DOMAIN", spec.domain)
        values["TRAEFIK_LABELS"] = json.dumps(
            traefik_labels(
                router=resource_name(spec.subdomain), domain=spec.domain, port=spec.internal_port, network=uuid
            )
        )
        items = []
        for key, value in values.items():
            if not ENV_KEY.match(key):
                raise PermanentError(f"Environment variable name {key!r} is not allowed by Coolify.")
            items.append(
                {
                    "key": key,
                    "value": str(value).strip(),
                    "is_preview": False,
                    "is_literal": False,
                    "is_multiline": False,
                    "is_shown_once": False,
                    "is_runtime": True,
                    "is_buildtime": True,
                }
            )
        return items

    # --- lookups ---------------------------------------------------------------------------------------------------

    def _find_application(self, spec: InstanceSpec) -> str | None:
        environment = self.client.get_environment(
            self._settings.coolify_project_uuid or "", self.environment_name(spec)
        )
        for app in (environment or {}).get("applications") or []:
            if app.get("name") == resource_name(spec.subdomain):
                return str(app["uuid"])
        return None

    def _live_application(self, spec: InstanceSpec) -> tuple[str, dict[str, Any], bool]:
        """The application as Coolify has it now: (uuid, fields, recreated). One deleted behind the portal's back
        (its recorded uuid answers 404) is made again from the instance's spec under a new uuid, which the step
        records; `recreated` says it has never been deployed."""
        uuid = spec.external_id or self._find_application(spec)
        app = self.client.get_application(uuid) if uuid else None
        if uuid is not None and app is not None:
            return uuid, app, False
        if uuid is not None:
            log.warning("Coolify application %s of %s is gone; creating it again", uuid, spec.subdomain)
        uuid = self._create(spec, known=None)
        return uuid, self._application(uuid), True

    # --- engine interface ------------------------------------------------------------------------------------------

    def prepare(self, spec: InstanceSpec) -> Placement:
        return Placement(external_id=self._create(spec, known=spec.external_id), upstream=None)

    def _create(self, spec: InstanceSpec, known: str | None) -> str:
        """The environment and the application, each made only when Coolify does not have it. `known` is the
        recorded uuid, trusted only while Coolify still has that application."""
        project = self._settings.coolify_project_uuid or ""
        created = self.client.create_environment(project, self.environment_name(spec))
        uuid = None if created is not None else known  # a new environment holds no application yet
        if uuid is not None and self.client.get_application(uuid) is None:
            uuid = None
        if uuid is None and created is None:  # the environment existed: an earlier attempt may have made the app
            uuid = self._find_application(spec)
        return uuid or self.client.create_application(self._create_payload(spec))

    def create(self, spec: InstanceSpec) -> Placement:
        """The environment and the application exist after prepare(); nothing runs before the first deploy."""
        return self.prepare(spec)

    def deploy(self, spec: InstanceSpec) -> Placement:
        uuid, app, _recreated = self._live_application(spec)
        return self._deploy(spec, uuid, app)

    def _deploy(self, spec: InstanceSpec, uuid: str, app: dict[str, Any]) -> Placement:
        template = self._template(spec)
        self._apply_env(spec, uuid)
        wanted = limit_fields(spec)
        if template["strategy"] == "build_script":
            wanted.update(self._commands(spec, uuid))
        domain_pending = template["strategy"] == "compose_domains" and not _has_domains(
            app, template["service"], spec.urls
        )
        # the domains before the first deploy once Coolify has loaded the compose file (one deploy, not two), sent
        # and verified together with the other settings
        if domain_pending and self._ensure_domain(
            uuid, template["service"], spec.urls, wait_for_compose=True, also=_differing(app, wanted)
        ):
            domain_pending = False
        else:
            self._ensure_fields(uuid, app, wanted, "application settings")
        self.client.deploy(uuid)
        self._follow(uuid)
        if domain_pending:  # the compose file arrived only with the deploy: set the domain, then deploy again
            self._ensure_domain(uuid, template["service"], spec.urls, wait_for_compose=False)
            self.client.deploy(uuid)
            self._follow(uuid)
        return Placement(external_id=uuid, upstream=None)

    def start(self, spec: InstanceSpec) -> Placement:
        uuid, app, recreated = self._live_application(spec)
        if recreated:  # a new application has never run: it is deployed, not started
            return self._deploy(spec, uuid, app)
        self.client.start(uuid)
        self._follow(uuid)
        return Placement(external_id=uuid, upstream=None)

    def restart(self, spec: InstanceSpec) -> Placement:
        uuid, app, recreated = self._live_application(spec)
        if recreated or self.client.latest_deployment(uuid) is None:  # Coolify cannot restart what never ran
            return self._deploy(spec, uuid, app)
        self.client.restart(uuid)
        self._follow(uuid)
        return Placement(external_id=uuid, upstream=None)

    def stop(self, spec: InstanceSpec) -> None:
        uuid = spec.external_id or self._find_application(spec)
        if uuid is not None:
            self.client.stop(uuid)  # asynchronous in Coolify; status() shows when it has stopped

    def status(self, spec: InstanceSpec) -> str:
        try:
            uuid = spec.external_id or self._find_application(spec)
            app = self.client.get_application(uuid) if uuid else None
        except PermanentError:
            return "failed"
        except ProvisioningError:
            return "unknown"
        return "missing" if app is None else parse_status(app.get("status"))[0]

    def health(self, spec: InstanceSpec, upstream: str | None) -> bool:
        uuid = spec.external_id
        app = self.client.get_application(uuid) if uuid else None
        state, health = parse_status((app or {}).get("status"))
        return state == "running" and health != "unhealthy"

    def logs(self, spec: InstanceSpec, lines: int = 100) -> str:
        uuid = spec.external_id or self._find_application(spec)
        if uuid is None:
            return ""
        text = self.client.logs(uuid, lines)
        return NOT_RUNNING_MESSAGE if text is None else text

    def stats(self, spec: InstanceSpec) -> dict[str, float]:
        return {}  # Coolify's API reports no per-application CPU or memory figures

    def destroy(self, spec: InstanceSpec) -> None:
        project = self._settings.coolify_project_uuid or ""
        uuid = spec.external_id or self._find_application(spec)
        if uuid is not None:
            self.client.delete_application(uuid)
        if not self.client.delete_environment(project, self.environment_name(spec)):
            raise ProvisioningError("Coolify is still deleting the application; the environment is removed next.")

    # --- apply and verify ------------------------------------------------------------------------------------------

    def _application(self, uuid: str) -> dict[str, Any]:
        app = self.client.get_application(uuid)
        if app is None:
            raise ProvisioningError(f"Coolify application {uuid} disappeared; preparing it again.")
        return app

    def _apply_env(self, spec: InstanceSpec, uuid: str) -> None:
        items = self.env_items(spec, uuid)
        for attempt in (1, 2):
            stored = self.client.upsert_envs(uuid, items)
            wrong = _env_differences(items, stored)
            if not wrong:
                return
            log.warning("Coolify holds different values for %s (attempt %d)", ", ".join(wrong), attempt)
        raise PermanentError(f"Coolify does not keep the environment variables {', '.join(wrong)} as sent.")

    def _ensure_fields(self, uuid: str, app: dict[str, Any], wanted: dict[str, str], what: str) -> None:
        """Send the fields that differ and read them back (verify after change); re-applied once, then parked."""
        for _attempt in (1, 2):
            differing = _differing(app, wanted)
            if not differing:
                return
            self.client.update_application(uuid, differing)
            app = self._application(uuid)
        _refuse_differing(app, wanted, what)

    def _ensure_domain(
        self, uuid: str, service: str, urls: list[str], *, wait_for_compose: bool, also: dict[str, str] | None = None
    ) -> bool:
        """Set the compose service's domains (the instance's own URL and its customer's proven domains, and the
        fields `also` names) and read them back. Nothing is deployed
        here, so a domain that is parked leaves no deployment queued behind it. False when Coolify has not loaded
        the compose file yet (it does so shortly after the application is created) and `wait_for_compose` has
        waited long enough for it."""
        delay, waited, also = self._settings.coolify_poll_seconds, 0.0, dict(also or {})
        for _attempt in (1, 2):
            while True:
                try:
                    self.client.update_application(
                        uuid, {"docker_compose_domains": [{"name": service, "domain": ",".join(urls)}], **also}
                    )
                    break
                except CoolifyRejected as rejected:
                    if not (rejected.status == 422 and "docker_compose_raw" in str(rejected)):
                        raise
                    if not wait_for_compose or waited >= COMPOSE_LOAD_WAIT_SECONDS:
                        if wait_for_compose:
                            return False
                        raise
                    self._sleep(delay)
                    waited, delay = waited + delay, min(delay * 1.5, self._settings.coolify_poll_max_seconds)
            app = self._application(uuid)
            if _has_domains(app, service, urls):
                self._ensure_fields(uuid, app, also, "application settings")  # re-applied once if not kept
                return True
        raise PermanentError(
            f"Coolify dropped the domain {', '.join(urls)} for compose service {service!r}. Check that the "
            f"app template's compose_service names a service in the compose file."
        )

    def _follow(self, uuid: str) -> None:
        """Follow the application's newest deployment until it ends; cancel it when it takes too long. Polled
        from COOLIFY_POLL_SECONDS, half as long again each time up to COOLIFY_POLL_MAX_SECONDS: a two-minute
        deployment costs about a dozen calls of the token's budget."""
        deadline = time.monotonic() + self._settings.coolify_deploy_timeout_seconds
        delay = self._settings.coolify_poll_seconds
        latest: dict[str, Any] | None = None
        while True:
            self._sleep(delay)
            delay = min(delay * 1.5, self._settings.coolify_poll_max_seconds)
            latest = self.client.latest_deployment(uuid)
            status = (latest or {}).get("status")
            if status == FINISHED:
                return
            if status in FAILED:
                raise ProvisioningError(self._failure(latest or {}, str(status)))
            if time.monotonic() > deadline:
                if latest and latest.get("deployment_uuid"):
                    self.client.cancel_deployment(str(latest["deployment_uuid"]))
                raise ProvisioningError(
                    f"Coolify deployment did not finish within "
                    f"{self._settings.coolify_deploy_timeout_seconds:.0f} s and was cancelled."
                )

    def _failure(self, deployment: dict[str, Any], status: str) -> str:
        """The parked message of a failed deployment: its status and the last lines of its log, which say why."""
        deployment_uuid = str(deployment.get("deployment_uuid") or "")
        logs = deployment.get("logs")
        if not logs and deployment_uuid:
            try:
                logs = (self.client.deployment(deployment_uuid) or {}).get("logs")
            except ProvisioningError:
                logs = None  # the cause stays unknown; the failure itself is certain
        tail = deployment_log_tail(logs)
        message = f"Coolify deployment {deployment_uuid} ended {status}"
        return message + (":\n" + "\n".join(tail) if tail else " (Coolify kept no log for it).")


def _differing(app: dict[str, Any], wanted: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in wanted.items() if str(app.get(k) or "") != v}


def _refuse_differing(app: dict[str, Any], wanted: dict[str, str], what: str) -> None:
    differing = _differing(app, wanted)
    if differing:
        raise PermanentError(f"Coolify does not keep the {what} {', '.join(sorted(differing))} as sent.")


def limit_fields(spec: InstanceSpec) -> dict[str, str]:
    """The plan's memory and CPU as Coolify's application limits (Docker's own notation, like `512m`)."""
    fields: dict[str, str] = {}
    cpus = spec.limits.get("cpus")
    if spec.memory_limit:
        fields["limits_memory"] = fields["limits_memory_swap"] = spec.memory_limit
    if cpus:
        fields["limits_cpus"] = f"{float(cpus):g}"
    return fields


def deployment_log_tail(logs: Any, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last visible lines of a deployment log: Coolify keeps it as a JSON string of entries."""
    if isinstance(logs, str):
        try:
            logs = json.loads(logs)
        except ValueError:
            return [line for line in logs.splitlines() if line.strip()][-lines:]
    if not isinstance(logs, list):
        return []
    outputs = [
        str(entry.get("output", "")).strip() for entry in logs if isinstance(entry, dict) and not entry.get("hidden")
    ]
    text_lines = [line[:300] for output in outputs for line in output.splitlines() if line.strip()]
    return text_lines[-lines:]


def _env_differences(sent: list[dict[str, Any]], stored: list[dict[str, Any]]) -> list[str]:
    """Keys missing from what Coolify stored, or stored with another value (where the token may see values)."""
    held = {item.get("key"): item for item in stored if not item.get("is_preview")}
    wrong = []
    for item in sent:
        got = held.get(item["key"])
        if got is None or ("value" in got and got["value"] is not None and got["value"] != item["value"]):
            wrong.append(item["key"])
    return wrong


def _has_domains(app: dict[str, Any], service: str, urls: list[str]) -> bool:
    """Coolify holds exactly these URLs for the service (a domain the customer removed must go too)."""
    raw = app.get("docker_compose_domains") or "{}"
    try:
        domains = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return False
    entry = (domains or {}).get(service) if isinstance(domains, dict) else None
    listed = str((entry or {}).get("domain", ""))
    return sorted(d.strip() for d in listed.split(",") if d.strip()) == sorted(urls)
