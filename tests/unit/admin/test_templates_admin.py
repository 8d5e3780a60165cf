"""App templates from the console: checked before any instance uses them; shared ones are the platform's."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import templates
from services.errors import ValidationFailed
from services.models import AppTemplate
from services.tenancy.scope import Forbidden
from tests.support.tenants import actor as _actor

GOOD = {
    "name": "LLM app",
    "slug": "llm-app",
    "backend": "docker",
    "image": "registry.example.com/llm:1.2",
    "internal_port": "8080",
    "health_path": "/health",
    "env_template": "ADMIN_EMAIL={{ customer.email }}\nLIMIT={{ limits.max_requests_per_minute }}\n",
}


def test_templates_are_checked_and_a_reseller_keeps_its_own(db: Session, tree: dict) -> None:
    with pytest.raises(ValidationFailed) as refused:
        templates.save_template(
            db,
            _actor(db, tree, "a-admin"),
            {
                **GOOD,
                "image": "",
                "internal_port": "70000",
                "health_path": "health",
                "env_template": "GOOD=1\nthis line is not KEY=value\n{% if %}",
            },
        )
    assert set(refused.value.errors) == {"image", "internal_port", "health_path", "env_template"}
    with pytest.raises(ValidationFailed, match=r"line 2|could not be rendered"):
        templates.save_template(db, _actor(db, tree, "a-admin"), {**GOOD, "env_template": "A=1\nnot a pair\n"})
    db.rollback()

    own = templates.save_template(db, _actor(db, tree, "a-admin"), GOOD)
    shared = templates.save_template(db, _actor(db, tree, "operator"), {**GOOD, "slug": "shared-app"})
    db.commit()
    assert own.organization_id == _actor(db, tree, "a-admin").organization_id and shared.organization_id is None
    mine = {t["slug"] for t in templates.list_templates(db, _actor(db, tree, "a-admin"))}
    assert {"llm-app", "shared-app"} <= mine
    assert "llm-app" not in {t["slug"] for t in templates.list_templates(db, _actor(db, tree, "b-admin"))}

    for attempt in (
        lambda: templates.save_template(
            db, _actor(db, tree, "a-admin"), {**GOOD, "slug": "shared-app"}, template_id=shared.id
        ),
        lambda: templates.archive_template(db, _actor(db, tree, "b-admin"), own.id),  # type: ignore[arg-type]
        lambda: templates.archive_template(db, _actor(db, tree, "a-admin"), shared.id),
    ):  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            attempt()
        db.rollback()
    templates.archive_template(db, _actor(db, tree, "a-admin"), own.id)  # type: ignore[arg-type]
    db.commit()
    assert db.get(AppTemplate, own.id).archived_at is not None  # type: ignore[union-attr]
    assert db.get(AppTemplate, shared.id).archived_at is None  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed, match="already exists"):
        templates.save_template(db, _actor(db, tree, "b-admin"), GOOD)
    assert len(db.exec(select(AppTemplate).where(AppTemplate.slug == "llm-app")).all()) == 1


RUNAWAY = {
    "loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}A=1",
    "size": 'A={{ "x" * 100000000 }}',
    "calls itself": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}A={{ f(40) }}",
    "formats": 'A={{ "%0999999999d" % 1 }}',
}


@pytest.mark.parametrize("case", list(RUNAWAY))
def test_a_template_that_would_stall_a_worker_is_refused_at_save_with_the_reason(
    db: Session, tree: dict, case: str
) -> None:
    import time

    started = time.monotonic()
    with pytest.raises(ValidationFailed) as refused:
        templates.save_template(db, _actor(db, tree, "a-admin"), {**GOOD, "env_template": RUNAWAY[case]})
    assert time.monotonic() - started < 2
    assert "env_template" in refused.value.errors
    assert db.exec(select(AppTemplate).where(AppTemplate.slug == GOOD["slug"])).all() == []


def test_a_runaway_template_that_slipped_in_parks_the_provision_with_its_reason(db: Session) -> None:
    from services.provisioning.errors import PermanentError
    from services.provisioning.spec import build_spec
    from tests.support.factories import customer_instance

    instance = customer_instance(db, "runaway")
    template = db.get(AppTemplate, instance.app_template_id)
    template.env_template = RUNAWAY["loops"]  # type: ignore[union-attr]
    db.add(template)
    db.commit()
    with pytest.raises(PermanentError, match="stopped"):
        build_spec(db, instance)
