"""Settings for every process (web, job consumer, CLI), read from the environment and `.env`.

One `Settings` object is the only place that knows defaults, so the web app, the consumer and the tests can
never disagree about where the database, the queue or the outbox live.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that mean "somebody copied .env.example and never set a real key".
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder", "your-secret-key"})
MIN_SECRET_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    """Raised when production mode would start with a secret anyone could guess."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", extra="ignore", env_file_encoding="utf-8")

    environment: Literal["development", "production", "test"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"

    database_url: str = ""
    redis_url: str | None = None
    # where Reflex keeps browser state when set (needed for more than one web worker); `make run` hands it to Reflex
    reflex_redis_url: str = ""
    secret_key: str = ""

    base_domain: str = "localhost"
    public_url: str = ""  # where people reach the portal; unset: http://localhost:<PORT>
    port: int = Field(default=3000, ge=1, le=65535)
    internal_url: str = ""  # how the job consumer reaches this portal's own HTTP routes (default: loopback + PORT)

    # where DNS proofs (a seller's sender domain) are looked up: "host" or "host:port"; empty: the system resolver
    dns_resolver: str = ""

    smtp_url: str | None = None
    mail_from: str = "Portal <no-reply@localhost>"
    outbox_dir: Path | None = None

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_connect_webhook_secret: str | None = None  # the Connect endpoint's own secret (sellers' accounts)
    stripe_api_base: str | None = None
    # the local test-mode checkout (no Stripe keys): always on outside production, off in production unless set
    allow_test_checkout: bool = False

    coolify_url: str | None = None
    coolify_token: str | None = None
    coolify_project_uuid: str | None = None
    coolify_server_uuid: str | None = None
    coolify_private_key_uuid: str | None = None
    coolify_timeout_seconds: float = 30.0
    coolify_max_retries: int = 4
    coolify_retry_base_seconds: float = 1.0
    coolify_poll_seconds: float = Field(default=2.0, gt=0)
    coolify_poll_max_seconds: float = Field(default=15.0, gt=0)
    coolify_requests_per_minute: int = Field(default=180, ge=1, le=100_000)
    coolify_deploy_timeout_seconds: float = 1200.0

    docker_host: str | None = None
    docker_name_prefix: str = "portal-"

    # How instance links are written. Empty / 0: as the edge the portal drives serves them (Caddy: https and its
    # port, nginx: http and its port; Coolify's applications: https). Set them for an edge the portal does not
    # drive (a load balancer or Traefik in front).
    instance_scheme: Literal["", "http", "https"] = ""
    instance_port: int = Field(default=0, ge=0, le=65535)
    provision_max_attempts: int = 5
    provision_retry_base_seconds: float = 5.0
    provision_health_timeout_seconds: float = 60.0
    # a running action's claim, renewed by its worker every third of this; a dead worker's action resumes after it
    provision_lease_seconds: float = Field(default=20.0, ge=3.0, le=600.0)
    provision_prewarm: bool = True  # create a paid instance (not started) while its checkout is open
    provision_prewarm_start: bool = True  # Docker: start the prepared container and freeze it (docker pause)
    provision_prewarm_max: int = 50  # at most this many prepared-but-unpaid instances at a time
    provision_prewarm_release_hours: float = 24.0  # an unpaid checkout's prepared resources are removed after this
    # the pool of servers (services/capacity): spread new instances over the least loaded, or pack the fullest
    placement_strategy: Literal["spread", "pack"] = "spread"
    # backups of instances' data volumes: a folder (default var/backups) or an S3-compatible bucket
    backup_store: Literal["folder", "s3"] = "folder"
    backup_dir: Path | None = None
    backup_s3_bucket: str | None = None
    backup_s3_endpoint_url: str | None = None  # any S3-compatible store; credentials from AWS_* as boto3 reads them
    backup_s3_prefix: str = "portal-backups/"

    # the edge in front of Docker instances: Caddy (HTTPS, through its admin API), nginx (HTTP vhost files), none;
    # auto: Caddy when installed, else nginx when installed, else none
    proxy_backend: Literal["auto", "caddy", "nginx", "none"] = "auto"
    proxy_listen: str = "127.0.0.1:8088"  # plain HTTP: nginx's listener; Caddy's redirects and ACME challenges
    nginx_bin: str = "nginx"
    nginx_dir: Path | None = None
    edge_https_listen: str = "127.0.0.1:8443"  # Caddy's HTTPS listener (production: :443, and PROXY_LISTEN=:80)
    # internal: Caddy's own CA (make run, tests; its root is exported to var/caddy/root.crt); acme: Let's Encrypt or
    # ACME_CA; off: Caddy serves plain HTTP on PROXY_LISTEN; auto: acme in production, internal otherwise
    edge_tls: Literal["auto", "internal", "acme", "off"] = "auto"
    acme_email: str = ""
    acme_ca: str = "https://acme-v02.api.letsencrypt.org/directory"
    # the CA's CAA identity (RFC 8659) a domain's CAA records must allow; empty: derived from ACME_CA
    acme_caa_identity: str = ""
    caddy_bin: str = "caddy"
    caddy_dir: Path | None = None  # Caddy's storage (certificates, its CA), config and log; default var/caddy
    # Caddy's admin API: a unix socket of our own by default, so a system Caddy (admin on localhost:2019) is
    # never reconfigured by mistake and no other local user can reach it; or host:port
    caddy_admin: str = ""
    # the URL Caddy asks before it gets a certificate on demand (default INTERNAL_URL + /api/edge/ask)
    edge_ask_url: str = ""
    # where the edge sends a seller's verified portal domains (the portal's web); default 127.0.0.1:PORT
    portal_upstream: str = ""
    # what customers point their domains at: a CNAME to EDGE_HOSTNAME (default: the portal's host) for a seller's
    # portal domain, to the instance's own host for an instance's domain, or A/AAAA records to EDGE_IPS
    edge_hostname: str = ""
    edge_ips: str = ""
    domain_check_seconds: float = Field(default=30.0, gt=0)  # first DNS check after adding, doubled each time
    domain_check_max_seconds: float = Field(default=3600.0, gt=0)
    domain_give_up_hours: float = Field(default=168.0, gt=0)  # a domain never proven in this time is marked failed
    domain_recheck_minutes: float = Field(default=360.0, gt=0)  # verified domains are proven again this often
    domain_grace_hours: float = Field(default=72.0, ge=0)  # a domain that stops proving stops serving after this
    traefik_cert_resolver: str = "letsencrypt"
    traefik_http_entrypoint: str = "http"
    traefik_https_entrypoint: str = "https"

    # the platform API: calls per token in a moving minute (429 with Retry-After beyond)
    api_rate_per_token: str = "600/minute"
    # outbound webhooks: private, loopback and link-local targets are refused unless this is set (tests); an
    # endpoint is disabled after this many failed deliveries in a row; retry delays scaled (tests shrink them)
    webhooks_allow_private: bool = False
    webhook_disable_after: int = Field(default=20, ge=1, le=1000)
    webhook_retry_scale: float = Field(default=1.0, gt=0, le=10)

    # the AI gateway (LiteLLM beside the portal, services/gateway): the URL instances and the portal reach it at;
    # empty: no gateway (instances report their own usage). Its master key also signs the gateway's usage callback
    ai_gateway_url: str = ""
    ai_gateway_master_key: str = ""
    # LiteLLM's `model_list` (YAML) for `make gateway`; empty: demo models that answer with a fixed text
    ai_gateway_models_file: str = ""

    jobs_immediate: bool = False
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line, with the request id
    # /metrics: with a token, only `Authorization: Bearer <token>` may scrape; without one, only outside production
    metrics_token: str = ""
    # process counts of `make run` / `python -m portal.serve`: web workers (granian) and job consumers (huey).
    # 0 = chosen for the machine: one web worker without Redis (Reflex keeps state on disk then), one per core
    # with it; one consumer on SQLite, two on Redis
    web_workers: int = Field(default=0, ge=0, le=64)
    job_workers: int = Field(default=0, ge=0, le=64)
    allow_sqlite_in_production: bool = False
    jobs_queue_name: str = "portal"  # the Redis key prefix; separate portals sharing one Redis need distinct names
    session_days: int = 14
    verification_hours: int = 48
    reset_minutes: int = 60

    # how many reverse proxies in front of the portal add X-Forwarded-For; their hops are trusted for the client IP
    # (per-IP limits and audit), anything further left in the header is the client's own claim
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)

    login_rate_per_ip: str = "20/minute"
    login_rate_per_account: str = "5/minute"
    signup_rate_per_ip: str = "10/hour"

    demo_app_image: str = "local/app:latest"  # `portal-admin demo-image` builds it
    demo_password: str = Field(default="demo-password-123", description="Password of the seeded demo accounts")

    @field_validator("smtp_url", "redis_url", "stripe_secret_key", "coolify_url", "docker_host", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'portal.db'}"
        if self.outbox_dir is None:
            self.outbox_dir = self.var_dir / "outbox"
        if not self.public_url:
            self.public_url = f"http://localhost:{self.port}"
        if not self.internal_url:
            self.internal_url = f"http://127.0.0.1:{self.port}"
        if self.nginx_dir is None:
            self.nginx_dir = self.var_dir / "nginx"
        if self.caddy_dir is None:
            self.caddy_dir = self.var_dir / "caddy"
        if not self.caddy_admin:
            self.caddy_admin = f"unix/{self.caddy_dir / 'admin.sock'}"
        if not self.edge_ask_url:
            self.edge_ask_url = f"{self.internal_url.rstrip('/')}/api/edge/ask"
        if not self.portal_upstream:
            self.portal_upstream = f"127.0.0.1:{self.port}"
        return self

    def instance_domain(self, subdomain: str) -> str:
        return f"{subdomain}.{self.base_domain}"

    @property
    def edge_tls_mode(self) -> str:
        if self.edge_tls != "auto":
            return self.edge_tls
        return "acme" if self.environment == "production" else "internal"

    @property
    def test_checkout_enabled(self) -> bool:
        """Without Stripe keys, paid plans use the local test-mode checkout; production must ask for it."""
        return not self.stripe_secret_key and (self.environment != "production" or self.allow_test_checkout)

    def check_startup(self) -> None:
        """Refuse to start in production with settings that would put real customers at risk."""
        self.resolved_secret_key()
        if self.environment == "production" and self.is_sqlite and not self.allow_sqlite_in_production:
            raise InsecureSettingsError(
                "DATABASE_URL must point at PostgreSQL in production: on SQLite one process holds one write lock, "
                "so the web server, the job consumer and the webhook route wait for each other and a lost disk "
                "loses every customer. Set ALLOW_SQLITE_IN_PRODUCTION=1 only for a single-server trial."
            )
        if self.web_workers > 1 and not self.reflex_redis_url:
            raise InsecureSettingsError(
                f"WEB_WORKERS={self.web_workers} needs REFLEX_REDIS_URL: without Redis each web worker keeps its "
                "own copy of every browser's state, and a browser served by two workers loses it."
            )
        if self.environment == "production" and not self.stripe_secret_key and not self.allow_test_checkout:
            raise InsecureSettingsError(
                "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set in production: without them paid plans "
                "would use the local test-mode checkout, where anyone can 'pay' with one click. Set "
                "ALLOW_TEST_CHECKOUT=1 only for a demo deployment."
            )

    def web_worker_count(self) -> int:
        if self.web_workers:
            return self.web_workers
        return max(1, os.cpu_count() or 1) if self.reflex_redis_url else 1

    def job_worker_count(self) -> int:
        """Two worker threads each. On Redis one per two cores: handling waits mostly on the database and Docker,
        and more consumers than that take the CPU the web workers need to answer (bench/webhooks.py on two
        cores: one consumer handles a burst as fast as it is acknowledged, a second only lifts the ack p99)."""
        if self.job_workers:
            return self.job_workers
        return max(1, (os.cpu_count() or 1) // 2) if self.redis_url else 1

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The signing/encryption key; generated once into var/ in development, mandatory in production."""
        key = self.secret_key.strip()
        if self.environment == "production":
            if key.lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise InsecureSettingsError(
                    f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters "
                    "in production (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            return key
        if key and key.lower() not in PLACEHOLDER_SECRETS:
            return key
        return generated_secret(self.var_dir)


def generated_secret(var_dir: Path, filename: str = "secret_key", prefix: str = "") -> str:
    """A random secret created once under var/ and reused by every process (web, consumer, CLI)."""
    path = var_dir / filename
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = prefix + secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(key)
        path.chmod(0o600)
    except FileExistsError:
        return path.read_text().strip()
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests change the environment; this makes the next get_settings() read it again."""
    get_settings.cache_clear()
