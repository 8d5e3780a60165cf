"""App templates from the console: what an instance runs and how its environment is rendered.

A template is checked as far as the portal can before any instance uses it: the environment template must
render with sample values for every variable, the image or repository must be named for its backend.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from services import audit
from services.errors import ValidationFailed
from services.forms import parse
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import AppTemplate
from services.models.base import utcnow
from services.provisioning.errors import PermanentError
from services.provisioning.spec import LimitView, render_env
from services.tenancy.scope import Actor, authorise, visible

BACKENDS = ("docker", "coolify")
SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]{0,299}$")
SAMPLE = {
    "customer": {"email": "customer@example.com", "username": "customer", "organization": "Customer"},
    "plan": {"name": "Plan", "slug": "plan"},
    "limits": LimitView({"memory_mb": 512, "cpus": 1}),
    "domain": "customer.example.com",
    "url": "https://customer.example.com",
    "secrets": {"admin_password": "x", "secret_key": "y"},
    "endpoints": [{"name": "default", "url": "https://llm.example.com"}],
}


def list_templates(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """Templates of the actor's subtree and the platform-wide ones (which every seller may use)."""
    checked = authorise(session, actor, "view", action="templates.list", target=("app_template", "*"))
    rows = session.exec(
        select(AppTemplate)
        .where((col(AppTemplate.organization_id).is_(None)) | visible(checked, col(AppTemplate.organization_id)))
        .order_by(col(AppTemplate.name))
    ).all()
    return [
        {
            "id": str(t.id),
            "name": t.name,
            "slug": t.slug,
            "backend": t.backend,
            "image": t.image or "",
            "port": str(t.internal_port),
            "health_path": t.health_path,
            "env_template": t.env_template,
            "shared": "platform" if t.organization_id is None else "",
            "archived": "yes" if t.archived_at else "",
        }
        for t in rows
    ]


class TemplateForm(BaseModel):
    """An app template as the console edits it: checked as far as the portal can before any instance uses it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    name: str = Field(min_length=1, max_length=100, json_schema_extra={"message": "must be 1 to 100 characters"})
    slug: Annotated[str, BeforeValidator(lambda v: str(v or "").strip().lower())] = Field(
        pattern=SLUG, json_schema_extra={"message": "must be 2 to 63 lowercase letters, digits or hyphens"}
    )
    backend: Literal["docker", "coolify"] = Field(
        "docker", json_schema_extra={"message": f"must be one of {', '.join(BACKENDS)}"}
    )
    image: Annotated[str | None, BeforeValidator(lambda v: str(v or "").strip() or None)] = None
    internal_port: Annotated[int, BeforeValidator(lambda v: v or 8080)] = Field(8080, ge=1, le=65535)
    health_path: Annotated[str, BeforeValidator(lambda v: str(v or "/").strip())] = Field(
        "/", pattern=r"^/", max_length=200, json_schema_extra={"message": "must start with /"}
    )
    env_template: Annotated[str, BeforeValidator(lambda v: str(v or ""))] = Field("", max_length=20_000)

    @field_validator("image")
    @classmethod
    def _image_for_docker(cls, image: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("backend", "docker") == "docker" and not (image and IMAGE.match(image)):
            raise ValueError("a Docker template needs an image such as registry.example.com/app:1.2")
        return image

    @field_validator("env_template")
    @classmethod
    def _renders(cls, template: str) -> str:
        try:
            render_env(template, SAMPLE)
        except PermanentError as exc:
            raise ValueError(str(exc)) from None
        return template


def save_template(
    session: Session, actor: Actor | None, values: dict[str, Any], *, template_id: int | None = None, ip: str = ""
) -> AppTemplate:
    """Platform staff make shared templates; a reseller's are its own. Editing one re-renders its instances'
    environment at their next deploy, not before."""
    template = session.get(AppTemplate, template_id) if template_id else None
    if template_id and template is None:
        raise ValidationFailed.single("", N_("That template does not exist."))
    owner = (
        template.organization_id
        if template
        else (None if actor and actor.is_platform else actor.organization_id if actor else -1)
    )
    checked = authorise(
        session,
        actor,
        "manage",
        action="templates.save",
        target=("app_template", template_id or "new"),
        organization_id=owner,
        platform=owner is None,
    )
    clean = parse(TemplateForm, values).model_dump()
    taken = session.exec(select(col(AppTemplate.id)).where(col(AppTemplate.slug) == clean["slug"])).first()
    if taken is not None and taken != template_id:
        raise ValidationFailed.single("slug", say("A template called {slug!r} already exists.", slug=clean["slug"]))
    template = template or AppTemplate(organization_id=owner, name=clean["name"], slug=clean["slug"])
    for name, value in clean.items():
        setattr(template, name, value)
    session.add(template)
    session.flush()
    audit.record(
        session,
        "templates.save",
        actor_label=checked.email,
        target=("app_template", template.id),
        organization_id=owner,
        ip=ip,
        details={"slug": template.slug, "backend": template.backend},
    )
    return template


def archive_template(session: Session, actor: Actor | None, template_id: int, *, ip: str = "") -> None:
    """App templates in use stay usable by their instances; archiving only keeps new plans from choosing them."""
    template = session.get(AppTemplate, template_id)
    owner = template.organization_id if template else -1
    checked = authorise(
        session,
        actor,
        "manage",
        action="templates.archive",
        target=("app_template", template_id),
        organization_id=owner,
        platform=owner is None,
    )
    assert template is not None
    template.archived_at = template.archived_at or utcnow()
    session.add(template)
    audit.record(
        session,
        "templates.archive",
        actor_label=checked.email,
        target=("app_template", template_id),
        organization_id=template.organization_id,
        ip=ip,
        details={"slug": template.slug},
    )
