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
from services.provisioning.coolify.client import CoolifyClient
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
            "server_uuid": self._settings.coolify_server_uuid,
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

    def _app_uuid(self, spec: InstanceSpec) -> str:
        uuid = spec.external_id or self._find_application(spec)
        if uuid is None:
            raise ProvisioningError("The Coolify application does not exist yet; preparing it again.")
        return uuid

    # --- engine interface ------------------------------------------------------------------------------------------

    def prepare(self, spec: InstanceSpec) -> Placement:
        project = self._settings.coolify_project_uuid or ""
        created = self.client.create_environment(project, self.environment_name(spec))
        uuid = spec.external_id
        if uuid is None and created is None:  # the environment existed: an earlier attempt may have made the app
            uuid = self._find_application(spec)
        if uuid is None:
            uuid = self.client.create_application(self._create_payload(spec))
        return Placement(external_id=uuid, upstream=None)

    def create(self, spec: InstanceSpec) -> Placement:
        """The environment and the application exist after prepare(); nothing runs before the first deploy."""
        return self.prepare(spec)

    def deploy(self, spec: InstanceSpec) -> Placement:
        uuid = self._app_uuid(spec)
        template = self._template(spec)
        self._apply_env(spec, uuid)
        app = self._application(uuid)
        if template["strategy"] == "build_script":
            self._ensure_fields(uuid, app, self._commands(spec, uuid), "build and start commands")
        self.client.deploy(uuid)
        self._follow(uuid)
        if template["strategy"] == "compose_domains" and not _has_domain(app, template["service"], spec.url):
            # Coolify takes compose domains only once the compose file is loaded (after the first deploy).
            self._ensure_domain(uuid, template["service"], spec.url)
            self._follow(uuid)
        return Placement(external_id=uuid, upstream=None)

    def start(self, spec: InstanceSpec) -> Placement:
        uuid = self._app_uuid(spec)
        self.client.start(uuid)
        self._follow(uuid)
        return Placement(external_id=uuid, upstream=None)

    def restart(self, spec: InstanceSpec) -> Placement:
        uuid = self._app_uuid(spec)
        if self.client.latest_deployment(uuid) is None:  # Coolify cannot restart what never ran: deploy instead
            return self.deploy(spec)
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
        for _attempt in (1, 2):
            if all(app.get(k) == v for k, v in wanted.items()):
                return
            self.client.update_application(uuid, wanted)
            app = self._application(uuid)
        if not all(app.get(k) == v for k, v in wanted.items()):
            raise PermanentError(f"Coolify does not keep the {what} as sent.")

    def _ensure_domain(self, uuid: str, service: str, url: str) -> None:
        for _attempt in (1, 2):
            self.client.update_application(
                uuid, {"docker_compose_domains": [{"name": service, "domain": url}], "instant_deploy": True}
            )
            if _has_domain(self._application(uuid), service, url):
                return
        raise PermanentError(
            f"Coolify dropped the domain {url} for compose service {service!r}. Check that the "
            f"app template's compose_service names a service in the compose file."
        )

    def _follow(self, uuid: str) -> None:
        """Follow the application's newest deployment until it ends; cancel it when it takes too long."""
        deadline = time.monotonic() + self._settings.coolify_deploy_timeout_seconds
        latest: dict[str, Any] | None = None
        while True:
            self._sleep(self._settings.coolify_poll_seconds)
            latest = self.client.latest_deployment(uuid)
            status = (latest or {}).get("status")
            if status == FINISHED:
                return
            if status in FAILED:
                raise ProvisioningError(f"Coolify deployment {(latest or {}).get('deployment_uuid')} ended {status}.")
            if time.monotonic() > deadline:
                if latest and latest.get("deployment_uuid"):
                    self.client.cancel_deployment(str(latest["deployment_uuid"]))
                raise ProvisioningError(
                    f"Coolify deployment did not finish within "
                    f"{self._settings.coolify_deploy_timeout_seconds:.0f} s and was cancelled."
                )


def _env_differences(sent: list[dict[str, Any]], stored: list[dict[str, Any]]) -> list[str]:
    """Keys missing from what Coolify stored, or stored with another value (where the token may see values)."""
    held = {item.get("key"): item for item in stored if not item.get("is_preview")}
    wrong = []
    for item in sent:
        got = held.get(item["key"])
        if got is None or ("value" in got and got["value"] is not None and got["value"] != item["value"]):
            wrong.append(item["key"])
    return wrong


def _has_domain(app: dict[str, Any], service: str, url: str) -> bool:
    raw = app.get("docker_compose_domains") or "{}"
    try:
        domains = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return False
    entry = (domains or {}).get(service) if isinstance(domains, dict) else None
    listed = str((entry or {}).get("domain", ""))
    return url in [d.strip() for d in listed.split(",")]
