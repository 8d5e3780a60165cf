"""Drives provisioning actions against the fake Coolify, the way the job consumer would, for the Coolify tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from services.models import AppTemplate, Instance
from services.provisioning import engine
from tests.support.coolify_fake import FakeCoolify
from tests.support.factories import customer_instance
from tests.support.provisioning import retry_due_now


@dataclass
class Coolify:
    fake: FakeCoolify
    url: str
    db: Session

    def instance(self, name: str, strategy: str = "compose_domains", extra_env: int = 0) -> Instance:
        instance = customer_instance(self.db, name)
        template = self.db.get(AppTemplate, instance.app_template_id)
        assert template is not None
        template.backend = "coolify"
        template.settings = {
            **template.settings,
            "git_repository": "git@github.com:acme/llm-app.git",
            "git_branch": "main",
            "compose_location": "/docker-compose.yaml",
            "domain_strategy": strategy,
            "compose_service": "app",
        }
        template.env_template += "".join(f"EXTRA_{n}=value-{n}\n" for n in range(extra_env))
        instance.backend = "coolify"  # as enrolment records it from the template
        self.db.add_all([template, instance])
        self.db.commit()
        return instance

    def run(self, instance: Instance, action: str, rounds: int = 8) -> str:
        row = engine.request_action(self.db, instance, action)
        self.db.commit()
        status = engine.execute(row.id)
        while status == "retrying" and rounds:
            retry_due_now(row.id)
            status, rounds = engine.execute(row.id), rounds - 1
        self.db.expire_all()  # the engine wrote in sessions of its own
        return status

    def app(self, instance: Instance) -> dict:
        self.db.refresh(instance)
        return self.fake.apps[instance.external_id]  # type: ignore[index]


def application_payload(environment: str, **changes: Any) -> dict[str, Any]:
    """A valid body for POST /applications/private-deploy-key in the fake's project, server and key."""
    return {
        "project_uuid": "proj-1",
        "server_uuid": "srv-1",
        "environment_name": environment,
        "private_key_uuid": "key-1",
        "git_repository": "git@github.com:a/b.git",
        "git_branch": "main",
        "build_pack": "dockercompose",
        **changes,
    }
