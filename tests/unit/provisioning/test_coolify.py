"""The Coolify backend against a fake Coolify that enforces the real contract (tests/coolify_fake.py)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from services.domains.edge import refresh_edge, served_state
from services.models import AppTemplate, Domain, DomainStatus, Instance, Plan, ProvisioningAction, Subscription
from services.models.base import utcnow
from services.provisioning import actions, engine
from services.provisioning.backends import get_backend
from services.provisioning.coolify.client import CoolifyClient, CoolifyRejected, CoolifyUnavailable
from services.provisioning.coolify.rules import parse_status, shell_safe
from services.provisioning.spec import build_spec
from tests.support.coolify_driver import Coolify, application_payload
from tests.support.env import SettingsEnv

# --- the client ----------------------------------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says_and_4xx_is_never_retried(coolify: Coolify) -> None:
    slept: list[float] = []
    client = CoolifyClient(coolify.url, coolify.fake.token, sleep=slept.append)
    env = client.create_environment("proj-1", "client-test")
    app = client.create_application(application_payload("client-test"))
    assert env and app
    coolify.fake.queue_full_next = 2
    client.deploy(app)
    assert slept == [60.0, 60.0]  # Coolify's Retry-After, honoured
    assert coolify.fake.calls("POST", "/deploy") == 3

    before = client.calls
    with pytest.raises(CoolifyRejected) as rejected:
        client.update_application(app, {"domains": "https://x.example.com"})
    assert client.calls == before + 1
    assert rejected.value.status == 422 and "domains" in rejected.value.field_errors
    assert "PATCH /applications/" in str(rejected.value) and "docker_compose_domains" in str(rejected.value)


def test_5xx_bursts_and_timeouts_are_retried_for_reads_but_a_create_is_never_sent_twice(coolify: Coolify) -> None:
    client = CoolifyClient(coolify.url, coolify.fake.token, timeout=0.5, sleep=lambda _s: None)
    coolify.fake.fail_next = [502, 503, 500]
    assert client.version() == "4.3.10"
    coolify.fake.hang_next = 1.0
    assert client.get_environment("proj-1", "nothing-here") is None  # timed out once, then answered 404

    client.create_environment("proj-1", "create-once")
    coolify.fake.fail_next = [500]
    with pytest.raises(CoolifyUnavailable, match="POST /applications/private-deploy-key answered 500"):
        client.create_application(application_payload("create-once"))
    assert coolify.fake.calls("POST", "/applications/private-deploy-key") == 1


def test_the_fake_enforces_the_code_level_rules(coolify: Coolify) -> None:
    client = CoolifyClient(coolify.url, coolify.fake.token, sleep=lambda _s: None)
    client.create_environment("proj-1", "rules")
    base = application_payload("rules")
    for extra, field_name in [
        ({"unknown_field": 1}, "unknown_field"),
        ({"docker_compose_custom_build_command": "cd app; make"}, "docker_compose_custom_build_command"),
        ({"domains": "https://a.example.com"}, "domains"),
        ({"custom_labels": "not base64!"}, "custom_labels"),
    ]:
        with pytest.raises(CoolifyRejected) as rejected:
            client.create_application({**base, **extra})
        assert rejected.value.status == 422 and field_name in rejected.value.field_errors
    coolify.fake.compose_load_seconds = 60  # Coolify loads the compose file a moment after the create
    app = client.create_application(base)
    with pytest.raises(CoolifyRejected, match="Reload the compose file"):
        client.update_application(app, {"docker_compose_domains": [{"name": "app", "domain": "https://a.b.c"}]})
    assert client.create_environment("proj-1", "rules") is None  # 409 means "already exists"
    assert client.request("POST", f"/applications/{app}/envs", json={"key": "A", "value": "1"}).status_code == 201
    assert (
        client.request("POST", f"/applications/{app}/envs", json={"key": "A", "value": "2"}, ok=(409,)).status_code
        == 409
    )
    assert client.logs(app) is None  # 400 "Application is not running." is not an error


def test_shell_safe_rule_and_status_parsing() -> None:
    assert shell_safe("CUSTOM_DOMAIN=a.example.com APP_UUID=abc123 sh ./scripts/coolify-build.sh")
    assert shell_safe("npm ci && npm run build") and shell_safe('sh -c "npm start"')
    assert not shell_safe("cd app; npm start") and not shell_safe("echo $HOME") and not shell_safe("a | b")
    assert parse_status("running:healthy") == ("running", "healthy")
    assert parse_status("exited") == ("stopped", "unknown")
    assert parse_status("hibernating:weird") == ("unknown", "weird")
    assert parse_status(None) == ("unknown", "unknown")


# --- the backend through the engine -------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["compose_domains", "build_script"])
def test_full_life_provision_plan_change_suspend_resume_delete(coolify: Coolify, strategy: str) -> None:
    instance = coolify.instance("acme", strategy)
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    app = coolify.app(instance)
    assert app["status"] == "running:healthy" and app["build_pack"] == "dockercompose"
    envs = {k: v["value"] for k, v in app["_envs"].items()}
    spec = build_spec(coolify.db, instance)
    assert envs["ADMIN_PASSWORD"] == spec.env["ADMIN_PASSWORD"] and envs["CUSTOM_DOMAIN"] == "acme.localhost"
    assert json.loads(envs["PREDEFINED_ENDPOINTS"]) == [{"name": "default", "url": "https://llm.example.com"}]
    assert json.loads(envs["TRAEFIK_LABELS"])["traefik.docker.network"] == instance.external_id
    assert all(v["is_runtime"] and not v["is_literal"] for v in app["_envs"].values())  # the full flag set
    if strategy == "compose_domains":
        assert json.loads(app["docker_compose_domains"]) == {"app": {"domain": "https://acme.localhost"}}
    else:
        assert app["docker_compose_custom_build_command"] == (
            f"CUSTOM_DOMAIN=acme.localhost APP_UUID={instance.external_id} sh ./scripts/coolify-build.sh"
        )
        assert "docker-compose.override.yaml up -d" in app["docker_compose_custom_start_command"]
    provision_calls = len(coolify.fake.requests)
    assert provision_calls <= 12

    plan = coolify.db.get(Plan, coolify.db.get(Subscription, instance.subscription_id).plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, "max_requests_per_minute": 600}  # type: ignore[union-attr]
    coolify.db.add(plan)
    coolify.db.commit()
    deployments = len(coolify.fake.deployments)
    assert coolify.run(instance, actions.APPLY_LIMITS) == "succeeded"
    assert coolify.app(instance)["_envs"]["INSTANCE_MAX_REQUESTS_PER_MINUTE"]["value"] == "600"
    assert len(coolify.fake.deployments) == deployments + 1  # redeployed with the new limits

    coolify.fake.async_seconds = 0  # Coolify stops asynchronously; here the job finishes at once
    assert coolify.run(instance, actions.SUSPEND) == "succeeded"
    assert get_backend("coolify").status(build_spec(coolify.db, instance)) == "stopped"
    assert coolify.run(instance, actions.RESUME) == "succeeded"
    assert coolify.app(instance)["status"] == "running:healthy"

    coolify.fake.async_seconds = 0.05
    assert coolify.run(instance, actions.DEPROVISION) == "succeeded"  # async delete: waits, then the environment
    assert coolify.fake.apps == {} and coolify.fake.environments == {}


def test_logs_and_restart_only_after_a_first_deploy(coolify: Coolify) -> None:
    instance = coolify.instance("logsy")
    backend = get_backend("coolify")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    coolify.db.refresh(instance)
    spec = build_spec(coolify.db, instance)
    assert "listening" in backend.logs(spec)
    assert coolify.run(instance, actions.RESTART) == "succeeded"
    assert coolify.fake.calls("POST", "/applications/{uuid}/restart") == 1
    coolify.fake.async_seconds = 0
    backend.stop(spec)
    assert "not running" in backend.logs(spec)


def test_call_count_is_the_same_for_5_and_50_variables(coolify: Coolify) -> None:
    """The variables go in one bulk call whatever their number. The compose file is loaded at once here: when
    Coolify loads it is a matter of time, not of the variables, and a PATCH that comes before it is answered 422
    and sent again, which made the two counts differ by one on a fast run (CI: 10 against 9)."""
    coolify.fake.compose_load_seconds = 0.0
    counts = []
    for name, extra in (("five", 0), ("fifty", 45)):
        before = len(coolify.fake.requests)
        instance = coolify.instance(name, extra_env=extra)
        assert coolify.run(instance, actions.PROVISION) == "succeeded"
        assert len(coolify.app(instance)["_envs"]) >= 5 + extra
        counts.append(len(coolify.fake.requests) - before)
    assert counts[0] == counts[1] <= 12


def test_a_crash_after_any_call_resumes_without_duplicates(coolify: Coolify) -> None:
    """Provision once to learn the calls, then for every N fail the N-th call after Coolify handled it."""
    coolify.run(coolify.instance("probe"), actions.PROVISION)
    sequence = [f"{m} {t}" for m, t, _ in coolify.fake.requests]
    for n, call in enumerate(sequence):
        name = f"crash{n}"
        coolify.fake.fail_after_handling = {}
        before = len(coolify.fake.requests)
        instance = coolify.instance(name)
        original = coolify.fake.handle

        def crash_at(method, url, headers, raw, _n=n, _before=before, _original=original):  # type: ignore[no-untyped-def]
            result = _original(method, url, headers, raw)
            if len(coolify.fake.requests) - _before == _n + 1 and not getattr(crash_at, "done", False):
                crash_at.done = True  # type: ignore[attr-defined]
                return 500, {"message": "Server Error"}, {}  # handled, but the portal never heard the answer
            return result

        coolify.fake.handle = crash_at  # type: ignore[method-assign]
        try:
            assert coolify.run(instance, actions.PROVISION) == "succeeded", f"after crash at {call}"
        finally:
            coolify.fake.handle = original  # type: ignore[method-assign]
        envs = [e for e in coolify.fake.environments if e == name]
        apps = [a for a in coolify.fake.apps.values() if a["_environment"] == name]
        assert len(envs) == 1 and len(apps) == 1, f"duplicates after a crash at {call}"
        assert coolify.app(instance)["status"] == "running:healthy"


def test_a_domain_coolify_silently_drops_is_caught_reapplied_once_then_parked(coolify: Coolify) -> None:
    coolify.fake.drop_domains = True
    coolify.fake.compose_load_seconds = 0  # loaded already: every domain PATCH below is taken, not refused
    instance = coolify.instance("dropped")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    action = coolify.db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).one()
    assert "dropped the domain https://dropped.localhost" in (action.last_error or "")
    domain_patches = [b for m, t, b in coolify.fake.requests if m == "PATCH" and "docker_compose_domains" in (b or {})]
    assert len(domain_patches) == 2  # applied, re-applied once

    coolify.fake.drop_domains = False  # the admin fixed the compose file; the retry button does the rest
    engine.retry_parked(coolify.db, action.id, requested_by="admin@example.com")
    coolify.db.commit()
    assert engine.execute(action.id) == "succeeded"


def _compose_urls(coolify: Coolify, instance: Instance) -> list[str]:
    return sorted(json.loads(coolify.app(instance)["docker_compose_domains"])["app"]["domain"].split(","))


def test_a_customers_proven_domain_is_set_in_coolify_verified_and_dropped_again_when_removed(
    coolify: Coolify,
) -> None:
    coolify.fake.compose_load_seconds = 0
    instance = coolify.instance("shopfront")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    domain = Domain(
        hostname="shop.example.org",
        organization_id=instance.organization_id,
        instance_id=instance.id,
        token="t" * 24,
        verified_at=utcnow(),
    )
    coolify.db.add(domain)
    coolify.db.commit()
    refresh_edge(instance.id, instance.organization_id)  # what a successful DNS check asks for
    queued = coolify.db.exec(
        select(ProvisioningAction).where(ProvisioningAction.action == actions.UPDATE_DOMAINS)
    ).one()
    deployments = len(coolify.fake.deployments)
    assert coolify.run(instance, actions.UPDATE_DOMAINS) == "succeeded"  # the one queued, run
    assert _compose_urls(coolify, instance) == ["https://shop.example.org", "https://shopfront.localhost"]
    assert len(coolify.fake.deployments) == deployments + 1  # Coolify's proxy routes what was deployed
    coolify.db.expire_all()
    assert coolify.db.get(ProvisioningAction, queued.id).status == "succeeded"  # type: ignore[union-attr]
    assert served_state("shop.example.org", instance).status == DomainStatus.SERVING

    coolify.db.delete(domain)
    coolify.db.commit()
    assert coolify.run(instance, actions.UPDATE_DOMAINS) == "succeeded"
    assert _compose_urls(coolify, instance) == ["https://shopfront.localhost"]


def test_a_domain_coolify_does_not_keep_parks_the_update_and_says_so_to_the_customer(coolify: Coolify) -> None:
    coolify.fake.compose_load_seconds = 0
    instance = coolify.instance("keeper")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    coolify.db.add(
        Domain(
            hostname="keep.example.org",
            organization_id=instance.organization_id,
            instance_id=instance.id,
            token="t" * 24,
            verified_at=utcnow(),
        )
    )
    coolify.db.commit()
    coolify.fake.drop_domains = True
    deployments = len(coolify.fake.deployments)
    assert coolify.run(instance, actions.UPDATE_DOMAINS) == "parked"
    assert len(coolify.fake.deployments) == deployments  # nothing deployed behind a domain Coolify dropped
    state = served_state("keep.example.org", instance)
    assert state.status == DomainStatus.VERIFIED and "Coolify has not taken it" in state.message


def test_a_deployment_that_never_finishes_is_cancelled(coolify: Coolify, settings_env: SettingsEnv) -> None:
    settings_env.setenv("COOLIFY_DEPLOY_TIMEOUT_SECONDS", "0.3")
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "1")
    coolify.fake.deploy_seconds = 60
    instance = coolify.instance("stuck")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    assert coolify.fake.calls("POST", "/deployments/{uuid}/cancel") == 1
    assert coolify.fake.deployments[-1]["status"] == "cancelled-by-user"


def test_health_reports_coolify_version_and_an_outage_without_failing_the_portal(
    coolify: Coolify, settings_env: SettingsEnv
) -> None:
    from services.admin.integrations import integration_status
    from services.health import check_all, check_coolify

    assert check_coolify(fresh=True) == {"ok": True, "url": coolify.url, "version": "4.3.10"}
    assert integration_status()[0]["state"] == "healthy"
    settings_env.setenv("COOLIFY_URL", "http://127.0.0.1:1")
    report = check_all()
    assert report["integrations"]["coolify"]["ok"] is False
    assert report["status"] == "ok"  # the portal still serves; provisioning on Coolify waits
    assert integration_status()[0]["state"] == "unreachable"


def test_a_422_from_coolify_parks_with_the_field_and_a_retry_after_the_fix_reuses_the_environment(
    coolify: Coolify,
) -> None:
    instance = coolify.instance("badrepo")
    template = coolify.db.get(AppTemplate, instance.app_template_id)
    template.settings = {**template.settings, "git_repository": "git@github.com:acme/app.git;rm"}  # type: ignore[union-attr]
    coolify.db.add(template)
    coolify.db.commit()
    assert coolify.run(instance, actions.PROVISION) == "parked"
    action = coolify.db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).one()
    assert "answered 422" in (action.last_error or "") and "git_repository" in (action.last_error or "")
    assert coolify.fake.apps == {}  # no application was created
    assert coolify.fake.calls("POST", "/applications/private-deploy-key") == 1  # a 4xx is not retried

    template.settings = {**template.settings, "git_repository": "git@github.com:acme/app.git"}  # type: ignore[union-attr]
    coolify.db.add(template)
    coolify.db.commit()
    engine.retry_parked(coolify.db, action.id, requested_by="admin@example.com")
    coolify.db.commit()
    assert engine.execute(action.id) == "succeeded"
    assert list(coolify.fake.environments) == ["badrepo"]  # the first attempt's environment, reused (409)


def test_an_environment_variable_coolify_keeps_differently_is_reapplied_once_then_parked(coolify: Coolify) -> None:
    """Verify-after-change compares the variables themselves, not only the domain."""
    coolify.fake.alter_env = {"CUSTOM_DOMAIN": "tampered.example"}
    instance = coolify.instance("mangled")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    action = coolify.db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).one()
    assert "does not keep the environment variables CUSTOM_DOMAIN as sent" in (action.last_error or "")
    assert coolify.fake.calls("PATCH", "/applications/{uuid}/envs/bulk") == 2  # applied, re-applied once
    assert coolify.fake.calls("POST", "/deploy") == 0  # never deployed with the wrong environment


def test_build_and_start_commands_coolify_does_not_keep_are_reapplied_once_then_parked(coolify: Coolify) -> None:
    """... and the commands too: a build script that is not the one sent never deploys."""
    coolify.fake.ignore_fields = {"docker_compose_custom_build_command"}
    instance = coolify.instance("stubborn", strategy="build_script")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    action = coolify.db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).one()
    assert "does not keep the application settings docker_compose_custom_build_command as sent" in (
        action.last_error or ""
    )
    assert coolify.fake.calls("POST", "/deploy") == 0
