"""The Coolify backend under the real API's limits: the token's request budget shared by every process, polling
that backs off, repair of an application deleted behind the portal's back, the plan's limits, failures that say
why. Against the fake Coolify, which is as strict as Coolify here (tests/support/coolify_fake.py)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlmodel import Session, select

from services.db import get_engine
from services.models import Instance, Plan, ProvisioningAction, RequestBudget, Subscription
from services.provisioning import actions, engine
from services.provisioning.coolify import budget
from services.provisioning.coolify.budget import DatabaseBudget, RequestBudgetGate, budget_key
from services.provisioning.coolify.client import CoolifyClient, CoolifyRejected
from tests.support.coolify_driver import Coolify, application_payload
from tests.support.env import SettingsEnv
from tests.support.provisioning import retry_due_now


def _limits(coolify: Coolify, instance, **limits: float) -> None:  # type: ignore[no-untyped-def]
    subscription = coolify.db.get(Subscription, instance.subscription_id)
    plan = coolify.db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, **limits}  # type: ignore[union-attr]
    coolify.db.add(plan)
    coolify.db.commit()


def _action(coolify: Coolify, instance, name: str) -> ProvisioningAction:  # type: ignore[no-untyped-def]
    return coolify.db.exec(
        select(ProvisioningAction)
        .where(ProvisioningAction.instance_id == instance.id, ProvisioningAction.action == name)
        .order_by(ProvisioningAction.created_at.desc())  # type: ignore[attr-defined]
    ).first()  # type: ignore[return-value]


# --- the request budget --------------------------------------------------------------------------------------------


def test_the_database_budget_never_lets_more_than_the_budget_through_in_any_window(db) -> None:  # type: ignore[no-untyped-def]
    """A virtual clock: 1,000 takers in a row get at most `per_minute` grants in any 60 s."""
    now = [1000.0]
    store = DatabaseBudget("coolify:test", per_minute=30, clock=lambda: now[0])
    granted: list[float] = []
    for _ in range(1000):
        wait = store.take()
        if wait == 0:
            granted.append(now[0])
        now[0] += max(wait, 0.01)
    first = 0
    for last, at in enumerate(granted):
        while at - granted[first] >= 60:
            first += 1
        assert last - first + 1 <= 30
    # and it does not starve either: the burst, then the rest of the budget spread over the minute
    assert len(granted) >= (30 - store.burst) * (now[0] - 1000) / 60 * 0.95


def test_a_taker_that_read_the_clock_before_waiting_for_the_lock_adds_no_budget(db) -> None:  # type: ignore[no-untyped-def]
    """Under contention a consumer thread reads the time, then waits for the row's lock while others take. Its
    older time must not be written back as the refill time, or the next taker is given those seconds' budget a
    second time (seen as 189 calls in a minute against a budget of 180 with 20 provisions at once)."""
    now = [100.0]
    current = DatabaseBudget("coolify:stale", per_minute=30, clock=lambda: now[0])
    late = DatabaseBudget("coolify:stale", per_minute=30, clock=lambda: now[0] - 5)  # its clock read 5 s ago
    while current.take() == 0:  # the burst is used up now
        pass
    assert late.take() > 0  # nothing for the late taker either
    assert current.take() > 0  # and its stale time gave nobody five seconds of budget again


def test_a_rate_limit_429_pauses_every_caller_of_the_token(db) -> None:  # type: ignore[no-untyped-def]
    now = [50.0]
    first = DatabaseBudget("coolify:shared", per_minute=100, clock=lambda: now[0])
    second = DatabaseBudget("coolify:shared", per_minute=100, clock=lambda: now[0])  # another process, same row
    assert first.take() == 0
    first.pause(30)
    assert second.take() == pytest.approx(30)
    now[0] += 31
    assert second.take() == 0
    row = db.get(RequestBudget, "coolify:shared")
    assert row is not None and "token" not in row.key  # a hash of the token, never the token


def test_budget_keys_hash_the_token() -> None:
    key = budget_key("https://coolify.example.com", "1|secret-token")
    assert key.startswith("coolify:") and "secret" not in key
    assert key != budget_key("https://coolify.example.com", "2|other")


@pytest.fixture()
def short_window(monkeypatch: pytest.MonkeyPatch, coolify: Coolify, settings_env: SettingsEnv) -> Coolify:
    """Coolify's minute shrunk to 3 s on both sides, so a crowd runs into the limit within a test."""
    monkeypatch.setattr(budget, "WINDOW_SECONDS", 3.0)
    budget.shared_store.cache_clear()
    coolify.fake.rate_window = 3.0
    coolify.fake.rate_limit = 20
    settings_env.setenv("COOLIFY_REQUESTS_PER_MINUTE", "18")
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "10")
    return coolify


def test_provisions_at_once_stay_within_the_budget_and_all_finish(short_window: Coolify) -> None:
    coolify = short_window
    instances = [coolify.instance(f"crowd{n}") for n in range(6)]
    outcomes: dict[str, str] = {}

    def provision(instance_id: int, subdomain: str) -> None:
        with Session(get_engine()) as own:  # each thread a consumer thread of its own, with its own session
            row = engine.request_action(own, own.get(Instance, instance_id), actions.PROVISION)  # type: ignore[arg-type]
            own.commit()
            action_id = row.id
        status, rounds = engine.execute(action_id), 20
        while status == "retrying" and rounds:
            time.sleep(0.2)
            retry_due_now(action_id)
            status, rounds = engine.execute(action_id), rounds - 1
        outcomes[subdomain] = status

    threads = [threading.Thread(target=provision, args=(i.id, i.subdomain)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == {i.subdomain: "succeeded" for i in instances}
    assert coolify.fake.throttled == 0  # every call waited for budget instead of running into 429
    assert coolify.fake.peak_calls_per_window() <= 18


def test_without_the_budget_the_same_crowd_runs_into_429(short_window: Coolify) -> None:
    """The test above can fail: clients that do not share the budget hit the fake's limit."""
    coolify = short_window
    clients = [CoolifyClient(coolify.url, coolify.fake.token, sleep=time.sleep, max_retries=0) for _ in range(3)]
    with pytest.raises(Exception, match="429"):
        for _ in range(10):
            for client in clients:
                client.get_environment("proj-1", "nothing")
    assert coolify.fake.throttled >= 1


# --- polling that backs off ----------------------------------------------------------------------------------------


def test_a_slow_deployment_and_a_slow_start_cost_few_calls(coolify: Coolify, settings_env: SettingsEnv) -> None:
    settings_env.setenv("COOLIFY_POLL_SECONDS", "0.05")
    settings_env.setenv("COOLIFY_POLL_MAX_SECONDS", "0.5")
    coolify.fake.deploy_seconds = 2.0
    coolify.fake.health_delay = 1.5
    instance = coolify.instance("patient")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    follows = coolify.fake.calls("GET", "/deployments/applications/{uuid}")
    looks = coolify.fake.calls("GET", "/applications/{uuid}")
    # at a fixed 0.05 s the 2 s deploy alone would cost 40 polls and the 1.5 s start another 30
    assert follows <= 9 and looks <= 12, (follows, looks)
    assert coolify.app(instance)["status"] == "running:healthy"


# --- repair --------------------------------------------------------------------------------------------------------


def test_an_application_deleted_after_provisioning_is_recreated_by_the_repair(coolify: Coolify) -> None:
    from services.provisioning.reconcile import reconcile

    instance = coolify.instance("phoenix")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    coolify.db.refresh(instance)
    old_uuid = instance.external_id
    del coolify.fake.apps[old_uuid]  # type: ignore[arg-type]  # someone deleted it in Coolify's UI

    findings = reconcile(coolify.db)
    coolify.db.commit()
    assert [f.outcome for f in findings if f.subdomain == "phoenix"] == ["repairing"]
    repair = _action(coolify, instance, actions.PROVISION)
    status = engine.execute(repair.id)
    coolify.db.expire_all()
    assert status == "succeeded", repair.last_error
    coolify.db.refresh(instance)
    assert instance.external_id not in (None, old_uuid)  # the new uuid is recorded
    app = coolify.app(instance)
    assert app["status"] == "running:healthy" and app["_envs"]["CUSTOM_DOMAIN"]["value"] == "phoenix.localhost"
    assert json.loads(app["docker_compose_domains"]) == {"app": {"domain": "https://phoenix.localhost"}}
    assert [a["_environment"] for a in coolify.fake.apps.values()] == ["phoenix"]  # one application, not two


def test_an_application_deleted_between_steps_is_recreated_and_the_provision_finishes(coolify: Coolify) -> None:
    instance = coolify.instance("between")
    original = coolify.fake.handle
    deleted: list[str] = []

    def delete_before_deploy(method, url, headers, raw):  # type: ignore[no-untyped-def]
        # the deploy step's first look at the application: it was created by the step before, then deleted
        if method == "GET" and "/api/v1/applications/" in url and not deleted and coolify.fake.apps:
            uuid = url.split("/api/v1/applications/")[1].split("?")[0].split("/")[0]
            if uuid in coolify.fake.apps:
                deleted.append(uuid)
                del coolify.fake.apps[uuid]
        return original(method, url, headers, raw)

    coolify.fake.handle = delete_before_deploy  # type: ignore[method-assign]
    try:
        assert coolify.run(instance, actions.PROVISION) == "succeeded"
    finally:
        coolify.fake.handle = original  # type: ignore[method-assign]
    coolify.db.refresh(instance)
    assert deleted and instance.external_id != deleted[0]
    assert coolify.app(instance)["status"] == "running:healthy"


def test_the_admins_retry_of_a_parked_action_recreates_a_missing_application(coolify: Coolify) -> None:
    instance = coolify.instance("retried")
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    coolify.db.refresh(instance)
    del coolify.fake.apps[instance.external_id]  # type: ignore[arg-type]
    assert coolify.run(instance, actions.RESTART) == "succeeded"  # restart of a vanished app: deployed anew
    coolify.db.refresh(instance)
    assert coolify.app(instance)["status"] == "running:healthy"


# --- the plan's limits ---------------------------------------------------------------------------------------------


def test_the_plans_memory_and_cpu_reach_coolify_and_follow_a_plan_change(coolify: Coolify) -> None:
    instance = coolify.instance("limited")
    _limits(coolify, instance, memory_mb=512, cpus=0.5)
    assert coolify.run(instance, actions.PROVISION) == "succeeded"
    app = coolify.app(instance)
    assert (app["limits_memory"], app["limits_memory_swap"], app["limits_cpus"]) == ("512m", "512m", "0.5")

    _limits(coolify, instance, memory_mb=2048, cpus=2)
    assert coolify.run(instance, actions.APPLY_LIMITS) == "succeeded"
    app = coolify.app(instance)
    assert (app["limits_memory"], app["limits_cpus"]) == ("2048m", "2")


def test_limits_coolify_does_not_keep_are_reapplied_once_then_parked(coolify: Coolify) -> None:
    coolify.fake.ignore_fields = {"limits_memory"}
    instance = coolify.instance("unlimited")
    _limits(coolify, instance, memory_mb=256)
    assert coolify.run(instance, actions.PROVISION) == "parked"
    action = _action(coolify, instance, actions.PROVISION)
    assert "does not keep the application settings limits_memory as sent" in (action.last_error or "")
    assert coolify.fake.calls("POST", "/deploy") == 0  # never deployed without its limits


# --- failures that say why -----------------------------------------------------------------------------------------


def test_a_failed_deployment_parks_with_the_end_of_its_log(coolify: Coolify, settings_env: SettingsEnv) -> None:
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "1")
    coolify.fake.deployments_fail = True
    instance = coolify.instance("broken")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    message = _action(coolify, instance, actions.PROVISION).last_error or ""
    assert "ended failed" in message and "did not complete successfully" in message and "npm ci" in message


def test_a_parked_domain_leaves_no_deployment_queued(coolify: Coolify) -> None:
    coolify.fake.drop_domains = True
    instance = coolify.instance("nodeploy")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    assert "dropped the domain" in (_action(coolify, instance, actions.PROVISION).last_error or "")
    assert coolify.fake.deployments == []


def test_a_domain_another_application_holds_is_refused_with_409(coolify: Coolify) -> None:
    first = coolify.instance("holder")
    assert coolify.run(first, actions.PROVISION) == "succeeded"
    client = CoolifyClient(coolify.url, coolify.fake.token, sleep=lambda _s: None)
    second = coolify.instance("grabber")
    assert coolify.run(second, actions.PROVISION) == "succeeded"
    coolify.db.refresh(second)
    with pytest.raises(CoolifyRejected) as refused:
        client.update_application(
            second.external_id,  # type: ignore[arg-type]
            {"docker_compose_domains": [{"name": "app", "domain": "https://holder.localhost"}]},
        )
    assert refused.value.status == 409 and "holder.localhost" in json.dumps(refused.value.body)


def test_the_fake_refuses_unknown_servers_keys_and_bad_git_settings(coolify: Coolify) -> None:
    client = CoolifyClient(coolify.url, coolify.fake.token, sleep=lambda _s: None)
    client.create_environment("proj-1", "strict")
    base = application_payload("strict")
    for change, status, text in [
        ({"server_uuid": "srv-unknown"}, 404, "Server not found"),
        ({"private_key_uuid": "key-unknown"}, 404, "Private Key not found"),
        ({"git_repository": "git@github.com/a/b.git"}, 422, "git_repository"),
        ({"git_repository": "ftp://example.com/a.git"}, 422, "git_repository"),
        ({"git_branch": "feature..x"}, 422, "git_branch"),
        ({"git_branch": "-rf"}, 422, "git_branch"),
        ({"name": "bad;name"}, 422, "name"),
    ]:
        with pytest.raises(CoolifyRejected) as refused:
            client.create_application({**base, **change})
        assert refused.value.status == status and text in str(refused.value), change
    assert client.create_application({**base, "git_repository": "https://github.com/a/b.git", "git_branch": "rel/1.2"})


def test_the_gate_gives_up_with_a_clear_message_when_the_wait_is_too_long(db) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    store = DatabaseBudget("coolify:spent", per_minute=4, clock=lambda: now[0])
    store.pause(600)
    gate = RequestBudgetGate(store, sleep=lambda s: now.__setitem__(0, now[0] + s))
    with pytest.raises(budget.BudgetExhausted, match="request budget is spent"):
        gate.acquire(longest=120)


def test_a_server_coolify_does_not_have_parks_with_its_message_and_creates_nothing(
    coolify: Coolify, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("COOLIFY_SERVER_UUID", "srv-typo")
    instance = coolify.instance("noserver")
    assert coolify.run(instance, actions.PROVISION) == "parked"
    message = _action(coolify, instance, actions.PROVISION).last_error or ""
    assert "answered 404" in message and "Server not found" in message
    assert coolify.fake.apps == {} and coolify.fake.calls("POST", "/applications/private-deploy-key") == 1


def test_a_domain_another_application_holds_parks_the_provision_with_nothing_deployed(coolify: Coolify) -> None:
    holder = coolify.instance("taken")
    assert coolify.run(holder, actions.PROVISION) == "succeeded"
    coolify.db.refresh(holder)
    held = coolify.fake.apps.pop(holder.external_id)  # type: ignore[arg-type]
    coolify.fake.apps["someone-else"] = {**held, "uuid": "someone-else", "name": "not-ours"}  # Coolify moved it
    deployments = len(coolify.fake.deployments)
    assert coolify.run(holder, actions.PROVISION) == "parked"  # the repair recreates it, but the domain is taken
    message = _action(coolify, holder, actions.PROVISION).last_error or ""
    assert "answered 409" in message and "taken.localhost" in message
    assert len(coolify.fake.deployments) == deployments  # nothing deployed on a domain that is not ours
