"""A small Coolify API v1 client on httpx.

Retries only what is safe to retry: 429 (honouring Retry-After) and, for requests that cannot create anything
twice, 5xx and transport errors. A 4xx is never retried. Every failure names the endpoint, the status and
Coolify's own message and field errors, because that is what an admin needs to fix it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.config import Settings, get_settings
from services.provisioning.coolify.budget import RequestBudgetGate, budget_key, shared_store
from services.provisioning.errors import PermanentError, ProvisioningError

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 120.0


def _describe(method: str, path: str, status: int | None, body: Any) -> str:
    message, errors = "", ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or "")
        if isinstance(body.get("errors"), dict):
            errors = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in body["errors"].items())
        if isinstance(body.get("conflicts"), list):  # a 409 on domains: which domain, held by what
            errors = "; ".join(
                f"{c.get('domain')} is used by {c.get('resource_type', 'resource')} {c.get('resource_name')!r}"
                for c in body["conflicts"]
                if isinstance(c, dict)
            )
    elif isinstance(body, str):
        message = body[:300]
    where = f"Coolify {method} {path}"
    text = f"{where} answered {status}" if status else f"{where} failed"
    return text + (f": {message}" if message else "") + (f" ({errors})" if errors else "")


class CoolifyUnavailable(ProvisioningError):
    """Coolify did not answer usefully (timeouts, 5xx, 429 after all retries): the engine retries later."""


@dataclass
class CoolifyRejected(PermanentError):
    """A 4xx: our request is wrong or not allowed. Retrying the same request cannot help."""

    method: str
    path: str
    status: int
    body: Any = None

    def __str__(self) -> str:
        return _describe(self.method, self.path, self.status, self.body)

    @property
    def field_errors(self) -> dict[str, Any]:
        return dict(self.body.get("errors") or {}) if isinstance(self.body, dict) else {}


@dataclass
class CoolifyClient:
    base_url: str
    token: str
    timeout: float = 30.0
    max_retries: int = 4
    retry_base: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    calls: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status) of every call
    budget: RequestBudgetGate | None = None  # the token's calls a minute, shared by every process (budget.py)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CoolifyClient:
        settings = settings or get_settings()
        if not settings.coolify_url or not settings.coolify_token:
            raise PermanentError("Coolify is not configured: set COOLIFY_URL and COOLIFY_TOKEN.")
        base_url = settings.coolify_url.rstrip("/")
        store = shared_store(
            budget_key(base_url, settings.coolify_token), settings.coolify_requests_per_minute, settings.redis_url
        )
        return cls(
            base_url=base_url,
            token=settings.coolify_token,
            timeout=settings.coolify_timeout_seconds,
            max_retries=settings.coolify_max_retries,
            retry_base=settings.coolify_retry_base_seconds,
            budget=RequestBudgetGate(store),
        )

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    # --- transport -------------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201),
        idempotent: bool | None = None,
        budgeted: bool = True,
    ) -> httpx.Response:
        """Send one API call; returns the response when its status is in `ok`, raises otherwise.

        `idempotent` defaults to True for everything but POST: a POST that timed out or hit a 5xx may have
        created something, so it is not sent again here (the engine's resume finds what exists instead).
        Every attempt first waits for the token's budget (`budgeted=False` only for /health, which Coolify
        limits separately).
        """
        safe = method != "POST" if idempotent is None else idempotent
        url = "/api/v1" + path
        attempt = 0
        while True:
            attempt += 1
            if self.budget is not None and budgeted:
                self.budget.acquire()
            self.calls += 1
            try:
                response = self._http.request(method, url, json=json, params=_query(params))
            except httpx.TransportError as exc:
                self.log.append((method, path, 0))
                if safe and attempt <= self.max_retries:
                    self._pause(attempt, None)
                    continue
                raise CoolifyUnavailable(f"{_describe(method, path, None, None)}: {type(exc).__name__} {exc}") from exc
            self.log.append((method, path, response.status_code))
            if response.status_code in ok:
                return response
            body = _body(response)
            if response.status_code == 429 and attempt <= self.max_retries:
                self._pause(attempt, response.headers.get("Retry-After"), everyone=_is_rate_limit(body))
                continue
            if response.status_code >= 500 and safe and attempt <= self.max_retries:
                self._pause(attempt, None)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                raise CoolifyUnavailable(_describe(method, path, response.status_code, body))
            raise CoolifyRejected(method, path, response.status_code, body)

    def _pause(self, attempt: int, retry_after: str | None, everyone: bool = False) -> None:
        """Wait before the next attempt. A rate-limit 429 pauses every caller of the token, not just this one."""
        delay = self.retry_base * (2 ** (attempt - 1))
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_SECONDS)
        if everyone and self.budget is not None:
            self.budget.pause(delay)
        self.sleep(delay)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return _body(self.request(method, path, **kwargs))

    # --- endpoints -------------------------------------------------------------------------------------------------

    def version(self) -> str:
        return self.request("GET", "/version").text.strip().strip('"')

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/health", idempotent=True, budgeted=False).status_code == 200
        except ProvisioningError:
            return False

    def create_environment(self, project_uuid: str, name: str) -> str | None:
        """The new environment's uuid, or None when one with that name already exists (409)."""
        response = self.request(
            "POST", f"/projects/{project_uuid}/environments", json={"name": name}, ok=(201, 409), idempotent=True
        )  # a repeat is a harmless 409
        return None if response.status_code == 409 else str(_body(response)["uuid"])

    def get_environment(self, project_uuid: str, name: str) -> dict[str, Any] | None:
        response = self.request("GET", f"/projects/{project_uuid}/{name}", ok=(200, 404))
        return None if response.status_code == 404 else _body(response)

    def delete_environment(self, project_uuid: str, name: str) -> bool:
        """True when gone; False while it still holds resources (deleting an application is asynchronous)."""
        response = self.request("DELETE", f"/projects/{project_uuid}/environments/{name}", ok=(200, 400, 404))
        return response.status_code in (200, 404)

    def create_application(self, payload: dict[str, Any]) -> str:
        return str(self.json("POST", "/applications/private-deploy-key", json=payload)["uuid"])

    def get_application(self, uuid: str) -> dict[str, Any] | None:
        response = self.request("GET", f"/applications/{uuid}", ok=(200, 404))
        return None if response.status_code == 404 else _body(response)

    def update_application(self, uuid: str, payload: dict[str, Any]) -> None:
        self.request("PATCH", f"/applications/{uuid}", json=payload)

    def upsert_envs(self, uuid: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One bulk upsert for every variable; returns what Coolify stored."""
        return list(self.json("PATCH", f"/applications/{uuid}/envs/bulk", json={"data": items}))

    def deploy(self, uuid: str, force: bool = False) -> None:
        # 429 "queue full" is retried with Retry-After; a repeat of a queued deploy is only "skipped".
        self.request("POST", "/deploy", params={"uuid": uuid, "force": force}, idempotent=True)

    def latest_deployment(self, uuid: str) -> dict[str, Any] | None:
        """The newest deployment of the application, as Coolify records it (the trigger's uuid may be fiction)."""
        body = self.json("GET", f"/deployments/applications/{uuid}", params={"skip": 0, "take": 1})
        deployments = body.get("deployments") if isinstance(body, dict) else body
        return deployments[0] if deployments else None

    def deployment(self, deployment_uuid: str) -> dict[str, Any] | None:
        response = self.request("GET", f"/deployments/{deployment_uuid}", ok=(200, 404))
        return None if response.status_code == 404 else _body(response)

    def cancel_deployment(self, deployment_uuid: str) -> None:
        self.request("POST", f"/deployments/{deployment_uuid}/cancel", ok=(200, 400), idempotent=True)

    def start(self, uuid: str) -> None:
        self.request("POST", f"/applications/{uuid}/start", idempotent=True)

    def stop(self, uuid: str) -> None:
        self.request("POST", f"/applications/{uuid}/stop", idempotent=True)

    def restart(self, uuid: str) -> None:
        self.request("POST", f"/applications/{uuid}/restart", idempotent=True)

    def logs(self, uuid: str, lines: int = 100) -> str | None:
        """The log tail, or None when Coolify says the application is not running."""
        response = self.request("GET", f"/applications/{uuid}/logs", params={"lines": lines}, ok=(200, 400))
        body = _body(response)
        if response.status_code == 400:
            if "not running" in str(body).lower():
                return None
            raise CoolifyRejected("GET", f"/applications/{uuid}/logs", 400, body)
        return str(body.get("logs", "")) if isinstance(body, dict) else str(body)

    def delete_application(self, uuid: str) -> None:
        self.request(
            "DELETE",
            f"/applications/{uuid}",
            ok=(200, 404),
            params={
                "delete_configurations": True,
                "delete_volumes": True,
                "docker_cleanup": True,
                "delete_connected_networks": True,
            },
        )


def _is_rate_limit(body: Any) -> bool:
    """Coolify's 429s: the token's rate limit, or a full deployment queue (which only that deploy waits out)."""
    return "queue" not in str(body.get("message", "") if isinstance(body, dict) else body).lower()


def _query(params: dict[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items()}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
