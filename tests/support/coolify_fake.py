"""A fake Coolify API v1 on a real loopback HTTP server, for tests and bench/provision_coolify.py.

Every request is checked against Coolify's own OpenAPI spec (../shared/specs/coolify-openapi-v4.3.10.json: the
operation must exist, the body must match its schema and carry no field the schema lacks) and against the rules
only Coolify's code enforces (CONTRACTS.md §1.2-§1.5): 422 for unknown fields, shell-unsafe commands, `domains` on
compose applications and compose domains before the compose file is loaded; 409 for an existing environment or
variable; 429 with Retry-After when the deployment queue is full; deploy uuids that are never stored when a deploy
is skipped; asynchronous stop and delete. It keeps state, so whole provisioning flows run against it.

Where it used to be more lenient than Coolify (issue: Coolify backend under the real API's limits), it is not any
more: a per-token rate limit (Laravel's fixed one-minute window, 429 with Retry-After: `rate_limit`), 404 for a
server or private key it does not have, git repository and branch rules, 409 for a domain another application
holds, the compose file loaded a moment after the application is created (`compose_load_seconds`), deployments
that take `deploy_seconds`, an application that reports healthy `health_delay` seconds after its deployment, and
a deployment log whose last lines say why a deployment failed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid as uuidlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from tests.support.env import SPECS

SPEC_PATH = SPECS / "coolify-openapi-v4.3.10.json"
# Copied from Coolify's code (CONTRACTS.md §1.4.2) on purpose rather than imported from services/: the fake states
# the contract independently, so a wrong rule in our client cannot pass its own test.
SHELL_SAFE = re.compile(r"""^(?:[ \t]+|&&|\|\||"[^"$`\\\n\r]*"|'[^'\n\r]*'|[a-zA-Z0-9._\-/=:@,+\[\]{}#%^~*?!]+)+$""")
COMMAND_FIELDS = (
    "build_command",
    "start_command",
    "install_command",
    "docker_compose_custom_build_command",
    "docker_compose_custom_start_command",
)
NAME_RULE = re.compile(r"^[\w\s\-_.@/&()#,:+]+$", re.UNICODE)
# Accepted by Coolify's code although the spec does not list them (CONTRACTS.md §1.5).
CODE_ONLY_ENV_FLAGS = {
    "is_runtime": {"type": "boolean"},
    "is_buildtime": {"type": "boolean"},
    "comment": {"type": "string", "maxLength": 256},
}
BULK_ENV_KEYS = (
    "key",
    "value",
    "is_preview",
    "is_literal",
    "is_multiline",
    "is_shown_once",
    "is_runtime",
    "is_buildtime",
    "comment",
)


def load_spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
            pytest.fail(f"{SPEC_PATH} is missing but PORTAL_REQUIRE_ALL=1 (CI always has ../shared/specs)")
        pytest.skip(f"Coolify spec not found at {SPEC_PATH} (../shared/specs is not on this machine)")
    return json.loads(SPEC_PATH.read_text())


class Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _invalid(errors: dict[str, Any]) -> Reply:
    return Reply(422, {"message": "Validation failed.", "errors": errors})


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    body_schema: dict[str, Any] | None


@dataclass
class FakeCoolify:
    """State plus fault knobs. Tests flip the knobs between calls."""

    spec: dict[str, Any]
    token: str = "fake-root-token"
    project_uuid: str = "proj-1"
    compose_services: tuple[str, ...] = ("app", "worker")
    latency: float = 0.0
    deploy_seconds: float = 0.05
    async_seconds: float = 0.05
    retry_after: str = "60"
    queue_limit: int = 25
    server_uuids: tuple[str, ...] = ("srv-1",)
    private_key_uuids: tuple[str, ...] = ("key-1",)
    rate_limit: int = 0  # calls a minute per token (Coolify: API_RATE_LIMIT, 200 by default); 0: no limit
    rate_window: float = 60.0  # Laravel's minute; tests shrink it together with the portal's budget window
    compose_load_seconds: float = 0.05  # LoadComposeFile, queued when a compose application is created
    health_delay: float = 0.0  # from a deployment's end until the application reports healthy
    failure_log: str = 'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully'
    # fault injection
    fail_next: list[int] = field(default_factory=list)  # statuses answered (once each) before real handling
    fail_after_handling: dict[str, int] = field(default_factory=dict)  # "POST /path-template" -> status, once
    queue_full_next: int = 0
    hang_next: float = 0.0
    drop_domains: bool = False
    alter_env: dict[str, str] = field(default_factory=dict)  # key -> the value Coolify keeps instead of the one sent
    ignore_fields: set[str] = field(default_factory=set)  # application fields a PATCH silently leaves as they were
    deployments_fail: bool = False
    # state and observation
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {uuid, name}
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)  # monotonic time of every authenticated call
    throttled: int = 0  # 429s answered for the rate limit
    lock: threading.RLock = field(default_factory=threading.RLock)
    _window: tuple[float, int] = (0.0, 0)  # the rate limit's window: (start, calls counted)

    def __post_init__(self) -> None:
        self.operations = self._operations()

    # --- the contract ----------------------------------------------------------------------------------------------

    def _operations(self) -> list[Operation]:
        ops = []
        for template, item in self.spec["paths"].items():
            regex = "^" + re.sub(r"\{[^}]+\}", r"([^/]+)", template) + "$"
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                    ops.append(Operation(method.upper(), template, re.compile(regex), schema))
        # literal segments first (Coolify registers /projects/{uuid}/environments before /projects/{uuid}/{env})
        ops.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
        return ops

    def _match(self, method: str, path: str) -> tuple[Operation, list[str]]:
        allowed = []
        for op in self.operations:
            found = op.pattern.match(path)
            if found:
                if op.method == method:
                    return op, list(found.groups())
                allowed.append(op.method)
        if allowed:
            raise Reply(405, {"message": "This endpoint has changed to a POST request."}, {"Allow": ", ".join(allowed)})
        raise Reply(404, {"message": "Not found."})

    def _validate_body(self, op: Operation, raw: bytes, content_type: str) -> Any:
        if op.body_schema is None:
            return None
        if "application/json" not in content_type:
            raise Reply(400, {"message": "Invalid request.", "error": "Content-Type must be application/json."})
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise Reply(400, {"message": "Invalid request.", "error": "Invalid JSON."}) from None
        if body in ({}, None):
            raise Reply(400, {"message": "Invalid request.", "error": "Empty JSON."})
        schema = json.loads(json.dumps(op.body_schema))
        schema.pop("required", None)  # the spec's required lists are wrong in places (§1.5); the code rules below
        properties = schema.get("properties", {})
        unknown = [k for k in body if k not in properties] if isinstance(body, dict) else []
        if unknown:
            raise _invalid({k: ["This field is not allowed."] for k in unknown})
        if op.template == "/applications/{uuid}/envs/bulk":
            properties["data"]["items"]["properties"].update(CODE_ONLY_ENV_FLAGS)
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise _invalid({".".join(str(p) for p in e.path) or "body": [e.message] for e in errors})
        return body

    # --- dispatch --------------------------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(url)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            if path in ("/api/health", "/api/v1/health"):
                return 200, "OK", {}
            if headers.get("authorization") != f"Bearer {self.token}":
                raise Reply(401, {"message": "Unauthenticated."})
            self._throttle()
            if not path.startswith("/api/v1/"):
                raise Reply(404, {"message": "Not found."})
            op, args = self._match(method, path[len("/api/v1") :])
            body = self._validate_body(op, raw, headers.get("content-type", ""))
            with self.lock:
                self.requests.append((method, op.template, body))
                if self.hang_next:
                    hang, self.hang_next = self.hang_next, 0.0
                    time.sleep(hang)
                if self.fail_next:
                    raise Reply(self.fail_next.pop(0), {"message": "Server Error"})
                self._advance()
                handler = getattr(self, "_" + re.sub(r"[^a-z]+", "_", f"{method} {op.template}".lower()).strip("_"))
                status, reply = handler(args, query, body)
                after = self.fail_after_handling.pop(f"{method} {op.template}", None)
                if after:
                    return after, {"message": "Server Error"}, {}
                return status, reply, {}
        except Reply as reply:
            return reply.status, reply.body, reply.headers

    def _throttle(self) -> None:
        """Laravel's ThrottleRequests: a window opens at the first call and lasts a minute; calls over the limit
        are answered 429 with the seconds until it ends, and are not counted."""
        with self.lock:
            now = time.monotonic()
            self.call_times.append(now)
            if not self.rate_limit:
                return
            start, used = self._window
            if now - start >= self.rate_window:
                start, used = now, 0
            if used >= self.rate_limit:
                self.throttled += 1
                retry = max(1, int(start + self.rate_window - now + 0.999))
                raise Reply(
                    429,
                    {"message": "Rate limit exceeded. Please try again later."},
                    {"Retry-After": str(retry), "X-RateLimit-Limit": str(self.rate_limit)},
                )
            self._window = (start, used + 1)

    def peak_calls_per_window(self) -> int:
        """The most calls in any `rate_window` seconds (sliding), to compare with a budget."""
        times, peak, first = sorted(self.call_times), 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= self.rate_window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    # --- time passes: deployments progress, async jobs finish --------------------------------------------------------

    def _advance(self) -> None:
        now = time.monotonic()
        for deployment in self.deployments:
            if deployment["status"] in ("queued", "in_progress") and now >= deployment["_done_at"]:
                app = self.apps.get(deployment["application_uuid"])
                if self.deployments_fail or app is None or (deployment["_restart_only"] and not app["_deployed"]):
                    deployment["status"] = "failed"
                    deployment["logs"] = _log(["Starting deployment.", "Building docker image.", self.failure_log])
                    continue
                deployment["status"] = "finished"
                deployment["logs"] = _log(["Starting deployment.", "Building docker image.", "Container started."])
                app["_compose_loaded"] = True
                app["_deployed"] = True
                app["_healthy_at"] = now + self.health_delay
                app["status"] = "starting:unknown" if self.health_delay else "running:healthy"
            elif deployment["status"] == "queued":
                deployment["status"] = "in_progress"
        for app_uuid, app in list(self.apps.items()):
            if app.get("_compose_load_at") and now >= app["_compose_load_at"]:
                app["_compose_loaded"], app["_compose_load_at"] = True, None
            if app.get("_healthy_at") and now >= app["_healthy_at"] and not app.get("_stop_at"):
                app["_healthy_at"] = None
                if str(app["status"]).startswith("starting"):
                    app["status"] = "running:healthy"
            if app.get("_stop_at") and now >= app["_stop_at"]:
                app["status"], app["_stop_at"] = "exited", None
            if app.get("_delete_at") and now >= app["_delete_at"]:
                del self.apps[app_uuid]

    def _queue(self, app_uuid: str, force: bool = False, restart_only: bool = False) -> tuple[str, str | None]:
        """Coolify's queue_application_deployment(): ("queued"|"skipped"|"queue_full", uuid or None)."""
        active = [d for d in self.deployments if d["status"] in ("queued", "in_progress")]
        if len(active) >= self.queue_limit:
            return "queue_full", None
        if not force and any(d["application_uuid"] == app_uuid for d in active):
            return "skipped", None
        deployment = {
            "deployment_uuid": _uuid(),
            "application_uuid": app_uuid,
            "status": "queued",
            "_done_at": time.monotonic() + self.deploy_seconds,
            "_restart_only": restart_only,
        }
        self.deployments.append(deployment)
        app = self.apps[app_uuid]
        app["status"] = "starting:unknown" if app["_deployed"] else app["status"]
        return "queued", deployment["deployment_uuid"]

    def _app(self, app_uuid: str) -> dict[str, Any]:
        if app_uuid not in self.apps or self.apps[app_uuid].get("_delete_at"):
            raise Reply(404, {"message": "Application not found."})
        return self.apps[app_uuid]

    # --- handlers (named after method and path template) -------------------------------------------------------------

    def _get_version(self, args, query, body):  # type: ignore[no-untyped-def]
        return 200, "4.3.10"

    def _post_projects_uuid_environments(self, args, query, body):  # type: ignore[no-untyped-def]
        if args[0] != self.project_uuid:
            raise Reply(404, {"message": "Project not found."})
        name = body.get("name", "")
        if not (3 <= len(name) <= 255 and NAME_RULE.match(name)):
            raise _invalid({"name": ["The name field format is invalid."]})
        if name in self.environments:
            raise Reply(409, {"message": "Environment with this name already exists."})
        self.environments[name] = {"uuid": _uuid(), "name": name}
        return 201, {"uuid": self.environments[name]["uuid"]}

    def _environment(self, project: str, name: str) -> dict[str, Any]:
        env = self.environments.get(name) or next((e for e in self.environments.values() if e["uuid"] == name), None)
        if project != self.project_uuid or env is None:
            raise Reply(404, {"message": "Environment not found."})
        return env

    def _get_projects_uuid_environment_name_or_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        env = self._environment(*args)
        apps = [{"uuid": u, "name": a["name"]} for u, a in self.apps.items() if a["_environment"] == env["name"]]
        return 200, {**env, "applications": apps, "services": []}

    def _delete_projects_uuid_environments_environment_name_or_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        env = self._environment(*args)
        if any(a["_environment"] == env["name"] for a in self.apps.values()):
            raise Reply(400, {"message": "Environment has resources, so it cannot be deleted."})
        del self.environments[env["name"]]
        return 200, {"message": "Environment deleted."}

    def _check_application_fields(self, body: dict[str, Any], compose: bool) -> None:
        errors: dict[str, Any] = {}
        for name in COMMAND_FIELDS:
            if name in body and body[name] is not None and not SHELL_SAFE.match(str(body[name])):
                errors[name] = ["The command contains characters that are not allowed."]
        if "custom_labels" in body:
            try:
                base64.b64decode(body["custom_labels"], validate=True)
            except ValueError:
                errors["custom_labels"] = "The custom_labels should be base64 encoded."
        if compose and body.get("domains"):
            errors["domains"] = (
                "The domains field cannot be used for dockercompose applications. Use docker_compose_domains instead."
            )
        if errors:
            raise _invalid(errors)

    def _post_applications_private_deploy_key(self, args, query, body):  # type: ignore[no-untyped-def]
        if not body.get("environment_name") and not body.get("environment_uuid"):
            raise _invalid(
                {"environment_name": ["You need to provide at least one of environment_name or environment_uuid."]}
            )
        for required in (
            "project_uuid",
            "server_uuid",
            "private_key_uuid",
            "git_repository",
            "git_branch",
            "build_pack",
        ):
            if not body.get(required):
                raise _invalid({required: [f"The {required} field is required."]})
        if not _valid_git_repository(body["git_repository"]):
            raise _invalid({"git_repository": ["The git repository URL is not valid."]})
        if not _valid_git_branch(body["git_branch"]):
            raise _invalid({"git_branch": ["The git branch name is not valid."]})
        if "name" in body and not (1 <= len(body["name"]) <= 255 and NAME_RULE.match(body["name"])):
            raise _invalid({"name": ["The name field format is invalid."]})
        self._check_application_fields(body, body["build_pack"] == "dockercompose")
        env = self._environment(body["project_uuid"], body.get("environment_name") or body["environment_uuid"])
        if body["server_uuid"] not in self.server_uuids:
            raise Reply(404, {"message": "Server not found."})
        if body["private_key_uuid"] not in self.private_key_uuids:
            raise Reply(404, {"message": "Private Key not found."})
        app_uuid = _uuid()
        self.apps[app_uuid] = {
            "uuid": app_uuid,
            "name": body.get("name") or f"app-{app_uuid}",
            "status": "exited",
            "build_pack": body["build_pack"],
            "git_repository": body["git_repository"],
            "git_branch": body["git_branch"],
            "docker_compose_location": body.get("docker_compose_location", "/docker-compose.yaml"),
            "docker_compose_custom_build_command": body.get("docker_compose_custom_build_command"),
            "docker_compose_custom_start_command": body.get("docker_compose_custom_start_command"),
            "docker_compose_domains": None,
            "fqdn": None,
            "_environment": env["name"],
            "_compose_loaded": False,
            "_compose_load_at": time.monotonic() + self.compose_load_seconds
            if body["build_pack"] == "dockercompose"
            else None,
            "_deployed": False,
            "_envs": {},
        }
        if body.get("instant_deploy"):
            self._queue(app_uuid, force=True)
        return 201, {"uuid": app_uuid, "domains": None}

    def _public(self, app: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in app.items() if not k.startswith("_")}

    def _get_applications_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        return 200, self._public(self._app(args[0]))

    def _patch_applications_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        app = self._app(args[0])
        self._check_application_fields(body, app["build_pack"] == "dockercompose")
        if "docker_compose_domains" in body:
            if not app["_compose_loaded"]:
                raise _invalid(
                    {
                        "docker_compose_domains": [
                            "Cannot set docker_compose_domains without "
                            "docker_compose_raw. Reload the compose file from the "
                            "git repository first."
                        ]
                    }
                )
            self._check_domain_conflicts(args[0], body["docker_compose_domains"])
            kept = (
                {}
                if self.drop_domains
                else {
                    item["name"]: {k: v for k, v in item.items() if k != "name" and v is not None}
                    for item in body["docker_compose_domains"]
                    if item.get("name") in self.compose_services
                }
            )
            app["docker_compose_domains"] = json.dumps(kept)  # entries for unknown services vanish silently
        for key, value in body.items():
            if key not in ("docker_compose_domains", "instant_deploy", *self.ignore_fields):
                app[key] = value
        if body.get("instant_deploy"):
            self._queue(args[0])
        return 200, {"uuid": args[0]}

    def _check_domain_conflicts(self, app_uuid: str, items: list[dict[str, Any]]) -> None:
        """409 when a URL is another application's (ApplicationsController: checkDomainUsage)."""
        wanted = {d.strip() for item in items for d in str(item.get("domain") or "").split(",") if d.strip()}
        conflicts = []
        for other_uuid, other in self.apps.items():
            if other_uuid == app_uuid or not other.get("docker_compose_domains"):
                continue
            held = json.loads(other["docker_compose_domains"])
            urls = {d.strip() for entry in held.values() for d in str(entry.get("domain", "")).split(",")}
            for url in sorted(wanted & urls):
                conflicts.append(
                    {
                        "domain": url,
                        "resource_name": other["name"],
                        "resource_uuid": other_uuid,
                        "resource_type": "application",
                        "message": f"Domain {url} is already in use by application '{other['name']}'",
                    }
                )
        if conflicts:
            raise Reply(
                409,
                {
                    "message": "Domain conflicts detected. Use force_domain_override=true to proceed.",
                    "conflicts": conflicts,
                    "warning": "Using the same domain for multiple resources can cause routing conflicts.",
                },
            )

    def _env_view(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "uuid": item["uuid"],
            "key": item["key"],
            "value": item["value"],
            "real_value": item["value"],
            **{k: item.get(k, False) for k in BULK_ENV_KEYS[2:8]},
        }

    def _patch_applications_uuid_envs_bulk(self, args, query, body):  # type: ignore[no-untyped-def]
        app = self._app(args[0])
        if not body.get("data"):
            raise Reply(400, {"message": "Bulk data is required."})
        stored = []
        for raw_item in body["data"]:
            item = {k: raw_item[k] for k in BULK_ENV_KEYS if k in raw_item}  # other keys are dropped silently
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", item.get("key", "")):
                raise _invalid({"key": ["The key field format is invalid."]})
            existing = app["_envs"].get(item["key"])
            flags = {k: bool(item.get(k, False)) for k in BULK_ENV_KEYS[2:6]}  # omitted flags are reset
            flags.update({k: bool(item.get(k, True)) for k in ("is_runtime", "is_buildtime")})
            record = {
                "uuid": existing["uuid"] if existing else _uuid(),
                "key": item["key"],
                "value": self.alter_env.get(item["key"], str(item.get("value", "")).strip()),
                **flags,
            }
            app["_envs"][item["key"]] = record
            stored.append(self._env_view(record))
        return 201, stored

    def _get_applications_uuid_envs(self, args, query, body):  # type: ignore[no-untyped-def]
        return 200, [self._env_view(e) for e in self._app(args[0])["_envs"].values()]

    def _post_applications_uuid_envs(self, args, query, body):  # type: ignore[no-untyped-def]
        app = self._app(args[0])
        if body.get("key") in app["_envs"]:
            raise Reply(409, {"message": "Environment variable already exists. Use PATCH request to update it."})
        record = {"uuid": _uuid(), "key": body["key"], "value": str(body.get("value", "")).strip()}
        app["_envs"][body["key"]] = record
        return 201, {"uuid": record["uuid"]}

    def _post_deploy(self, args, query, body):  # type: ignore[no-untyped-def]
        app_uuid = query.get("uuid", "")
        if app_uuid not in self.apps:
            raise Reply(404, {"message": "No resources found."})
        if self.queue_full_next:
            self.queue_full_next -= 1
            raise Reply(
                429, {"message": "Deployment queue is full. Please try again later."}, {"Retry-After": self.retry_after}
            )
        result, deployment_uuid = self._queue(app_uuid, force=query.get("force") == "true")
        if result == "queue_full":
            raise Reply(
                429, {"message": "Deployment queue is full. Please try again later."}, {"Retry-After": self.retry_after}
            )
        message = "Deployment request queued." if result == "queued" else "Deployment already queued for this commit."
        return 200, {
            "deployments": [
                {"message": message, "resource_uuid": app_uuid, "deployment_uuid": deployment_uuid or _uuid()}
            ]
        }  # skipped: never stored

    def _get_deployments_applications_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        self._app(args[0])
        mine = [self._public(d) for d in reversed(self.deployments) if d["application_uuid"] == args[0]]
        skip, take = int(query.get("skip", 0)), int(query.get("take", 10))
        return 200, {"count": len(mine), "deployments": mine[skip : skip + take]}

    def _get_deployments_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        found = next((d for d in self.deployments if d["deployment_uuid"] == args[0]), None)
        if found is None:
            raise Reply(404, {"message": "Deployment not found."})
        return 200, self._public(found)

    def _post_deployments_uuid_cancel(self, args, query, body):  # type: ignore[no-untyped-def]
        found = next((d for d in self.deployments if d["deployment_uuid"] == args[0]), None)
        if found is None:
            raise Reply(404, {"message": "Deployment not found."})
        if found["status"] not in ("queued", "in_progress"):
            raise Reply(400, {"message": "Deployment cannot be cancelled."})
        found["status"] = "cancelled-by-user"
        return 200, {"message": "Deployment cancelled.", "deployment_uuid": args[0], "status": "cancelled-by-user"}

    def _post_applications_uuid_start(self, args, query, body):  # type: ignore[no-untyped-def]
        self._app(args[0])["_stop_at"] = None
        result, deployment_uuid = self._queue(args[0], force=query.get("force") == "true")
        if result == "skipped":
            return 200, {"message": "Deployment already queued for this commit."}
        return 200, {"message": "Deployment request queued.", "deployment_uuid": deployment_uuid or _uuid()}

    def _post_applications_uuid_restart(self, args, query, body):  # type: ignore[no-untyped-def]
        self._app(args[0])
        result, deployment_uuid = self._queue(args[0], restart_only=True)
        if result == "skipped":
            return 200, {"message": "Restart request skipped."}
        return 200, {"message": "Restart request queued.", "deployment_uuid": deployment_uuid or _uuid()}

    def _post_applications_uuid_stop(self, args, query, body):  # type: ignore[no-untyped-def]
        self._app(args[0])["_stop_at"] = time.monotonic() + self.async_seconds
        return 200, {"message": "Application stopping request queued."}

    def _get_applications_uuid_logs(self, args, query, body):  # type: ignore[no-untyped-def]
        app = self._app(args[0])
        if not str(app["status"]).startswith("running"):
            raise Reply(400, {"message": "Application is not running."})
        return 200, {"logs": f"{app['name']} listening\n"}

    def _delete_applications_uuid(self, args, query, body):  # type: ignore[no-untyped-def]
        self._app(args[0])["_delete_at"] = time.monotonic() + self.async_seconds
        return 200, {"message": "Application deletion request queued."}

    # --- views for assertions ----------------------------------------------------------------------------------------

    def calls(self, method: str, template: str) -> int:
        return sum(1 for m, t, _ in self.requests if m == method and t == template)


def _uuid() -> str:
    return uuidlib.uuid4().hex[:24]


def _log(lines: list[str]) -> str:
    """A deployment log as Coolify keeps it: a JSON string of entries (CONTRACTS.md §1.4.7)."""
    return json.dumps(
        [{"output": line, "type": "stdout", "hidden": False, "batch": 1, "order": n} for n, line in enumerate(lines)]
    )


GIT_SSH = re.compile(r"^git@[a-zA-Z0-9.\-]+:[a-zA-Z0-9\-_/.~]+$")
GIT_FORBIDDEN = re.compile(r"[;|&$`(){}\[\]<>\"'\\!?*^%=+#]")


def _valid_git_repository(url: str) -> bool:
    """App\\Rules\\ValidGitRepositoryUrl (CONTRACTS.md §1.4.2): no shell characters; the SSH form, or an http(s) URL."""
    if GIT_FORBIDDEN.search(url):
        return False
    if url.startswith("git@"):
        return bool(GIT_SSH.match(url))
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _valid_git_branch(branch: str) -> bool:
    """App\\Rules\\ValidGitBranch: what `git check-ref-format --branch` accepts, without shell characters."""
    return bool(
        branch
        and len(branch) <= 255
        and not branch.startswith(("-", "/", "."))
        and not branch.endswith(("/", ".", ".lock"))
        and ".." not in branch
        and "//" not in branch
        and "@{" not in branch
        and not re.search(r"[\s~^:?*\[\\;|&$`()<>'\"]", branch)
    )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCoolify

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.fake.handle(self.command, self.path, headers, raw)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header(
                "Content-Type", "text/html; charset=UTF-8" if isinstance(body, str) else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_fake(**knobs: Any) -> Iterator[tuple[FakeCoolify, str]]:
    fake = FakeCoolify(spec=load_spec(), **knobs)
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
