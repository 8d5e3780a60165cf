"""App templates, instances and the record of every provisioning step attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from services.models.base import created_field, json_field, text_field


class AppTemplate(SQLModel, table=True):
    __tablename__ = "app_template"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    name: str = Field(max_length=100)
    slug: str = Field(max_length=64, unique=True)
    backend: str = Field(default="docker", max_length=20)  # docker | coolify
    image: str | None = Field(default=None, max_length=300)
    git_repository: str | None = Field(default=None, max_length=500)
    git_branch: str | None = Field(default=None, max_length=100)
    compose_path: str | None = Field(default=None, max_length=300)
    domain_strategy: str | None = Field(default=None, max_length=30)
    internal_port: int = 8080
    health_path: str = Field(default="/", max_length=200)
    env_template: str = text_field("", nullable=False)
    settings: dict[str, Any] = json_field()
    archived_at: datetime | None = None
    created_at: datetime = created_field()


class Instance(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id", index=True)
    app_template_id: int | None = Field(default=None, foreign_key="app_template.id")
    subdomain: str = Field(max_length=32, unique=True, index=True)
    backend: str = Field(default="docker", max_length=20)
    external_id: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=20, index=True)
    desired_state: str = Field(default="running", max_length=20)
    credentials_encrypted: str | None = text_field()
    credentials_shown_at: datetime | None = None
    upstream: str | None = Field(default=None, max_length=100)  # host:port the reverse proxy forwards to
    # where it runs (services/capacity/placement.py) and what it holds there, released when it leaves
    server_id: int | None = Field(default=None, foreign_key="server.id", index=True)
    reserved_memory_mb: int = 0
    reserved_millicpus: int = 0
    host_unreachable: bool = False  # its server stopped answering: the dashboard says so, staff are on it
    last_error: str | None = text_field()
    welcome_sent_at: datetime | None = None
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class ProvisioningAction(SQLModel, table=True):
    """One requested change to an instance; its steps are recorded in provisioning_step."""

    __tablename__ = "provisioning_action"

    id: str = Field(primary_key=True, max_length=36)
    instance_id: int = Field(foreign_key="instance.id", index=True)
    action: str = Field(max_length=30)
    status: str = Field(
        default="queued", max_length=20, index=True
    )  # queued|running|retrying|succeeded|parked|cancelled
    failures: int = 0  # consecutive failed attempts in the current round; an admin retry starts a new round
    last_error: str | None = text_field()
    requested_by: str = Field(default="", max_length=254)
    params: dict[str, Any] = json_field()
    next_attempt_at: datetime | None = None
    locked_until: datetime | None = None
    created_at: datetime = created_field()
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ProvisioningStep(SQLModel, table=True):
    __tablename__ = "provisioning_step"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="instance.id", index=True)
    action_id: str = Field(max_length=36, index=True)
    action: str = Field(max_length=30)
    step: str = Field(max_length=60)
    attempt: int = 1
    status: str = Field(default="running", max_length=20)
    message: str | None = text_field()
    started_at: datetime = created_field()
    finished_at: datetime | None = None
