"""The platform API on its real routes: tokens and their scopes, what each caller sees, paging, errors as problems,
idempotent POSTs, rate limits, and a reseller creating a customer."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal.api import build_api
from services.api.tokens import CUSTOMER_SCOPES, issue_api_token, revoke_api_token
from services.errors import ValidationFailed
from services.models import (
    ApiToken,
    Instance,
    Invitation,
    Membership,
    Organization,
    ProvisioningAction,
    User,
    WebhookEvent,
)
from services.models.base import utcnow
from tests.conftest import SettingsEnv
from tests.support.api import bearer, licensed, offered_plans, token_for
from tests.support.factories import customer_instance


@pytest.fixture()
def api(tree: dict, db: Session) -> Iterator[TestClient]:
    licensed(db, "reseller-a", "reseller-b")
    with TestClient(build_api()) as client:
        yield client


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def _user(db: Session, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def test_a_token_never_carries_more_than_its_creators_role(api: TestClient, db: Session) -> None:
    support, reseller = _user(db, "a-support"), _org(db, "reseller-a")
    with pytest.raises(ValidationFailed, match="customers:write"):
        issue_api_token(db, support.id, reseller.id, "too much", ["customers:write"])  # type: ignore[arg-type]
    with pytest.raises(PermissionError):  # not their organization
        issue_api_token(db, support.id, _org(db, "reseller-b").id, "elsewhere", ["instances:read"])  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="unknown scope"):
        issue_api_token(db, support.id, reseller.id, "typo", ["instances:destroy"])  # type: ignore[arg-type]
    issued = issue_api_token(db, support.id, reseller.id, "ops", ["instances:read"], 30)  # type: ignore[arg-type]
    db.commit()
    stored = db.get(ApiToken, issued.id)
    assert stored is not None and issued.token not in (stored.token_hash, stored.prefix)  # kept only hashed
    assert api.get("/api/v1/me", headers=bearer(issued.token)).json()["scopes"] == ["instances:read"]


def test_revoked_expired_and_demoted_tokens_stop_at_once(api: TestClient, db: Session) -> None:
    token = token_for(db, "a-admin", "reseller-a")
    assert api.get("/api/v1/instances", headers=bearer(token)).status_code == 200
    row = db.exec(select(ApiToken).where(ApiToken.prefix == token[:12])).one()
    membership = db.exec(select(Membership).where(Membership.user_id == _user(db, "a-admin").id)).one()
    membership.role = "billing"  # demoted: the token keeps only what a billing role may grant
    db.add(membership)
    db.commit()
    assert api.get("/api/v1/instances", headers=bearer(token)).status_code == 403
    assert api.get("/api/v1/subscriptions", headers=bearer(token)).status_code == 200
    row.expires_at = utcnow()
    db.add(row)
    db.commit()
    answer = api.get("/api/v1/subscriptions", headers=bearer(token))
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
    other = token_for(db, "operator", "platform")
    revoke_api_token(
        db, _user(db, "operator").id, db.exec(select(ApiToken).where(ApiToken.prefix == other[:12])).one().id
    )  # type: ignore[arg-type]
    db.commit()
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 401
    for garbage in ("", "Bearer", "Bearer pat_", "Bearer " + "x" * 5000, "Basic abc", "Bearer pit_usage"):
        assert api.get("/api/v1/me", headers={"Authorization": garbage}).status_code == 401


def test_each_caller_lists_only_its_own_part_of_the_tree_page_by_page(api: TestClient, db: Session) -> None:
    for n in range(5):
        customer_instance(db, f"extra{n}", parent=_org(db, "reseller-a"))
    platform = bearer(token_for(db, "operator", "platform"))
    reseller = bearer(token_for(db, "a-admin", "reseller-a"))
    customer = bearer(token_for(db, "cust-a", "cust-a", tuple(CUSTOMER_SCOPES)))
    subdomains = lambda h, **q: [i["subdomain"] for i in _all(api, "/api/v1/instances", h, **q)]  # noqa: E731
    assert set(subdomains(platform)) == {"cust-a", "cust-b", *(f"extra{n}" for n in range(5))}
    assert set(subdomains(reseller)) == {"cust-a", *(f"extra{n}" for n in range(5))}
    assert subdomains(customer) == ["cust-a"]
    assert subdomains(reseller, status="pending") == ["cust-a", *(f"extra{n}" for n in range(5))]
    assert subdomains(reseller, status="running") == []
    first = api.get("/api/v1/instances", headers=reseller, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    kinds = {o["slug"]: o["kind"] for o in _all(api, "/api/v1/organizations", reseller)}
    assert "reseller-b" not in kinds and kinds["sub-a"] == "sub_reseller"


def _all(api: TestClient, path: str, headers: dict[str, str], **params: object) -> list[dict]:
    items, cursor = [], None
    for _ in range(50):
        page = api.get(path, headers=headers, params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("paging never ended")


def test_errors_are_problems_that_name_the_field(api: TestClient, db: Session) -> None:
    headers = bearer(token_for(db, "a-admin", "reseller-a"))
    answer = api.get("/api/v1/instances", headers=headers, params={"limit": 0})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "limit"
    answer = api.get("/api/v1/instances", headers=headers, params={"cursor": "not-a-cursor"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "cursor"
    answer = api.post("/api/v1/customers", headers=headers, content=b"{not json")
    assert answer.status_code == 422
    answer = api.post("/api/v1/customers", headers=headers, json={"email": "x@example.com", "username": "new1"})
    assert [e["field"] for e in answer.json()["errors"]] == ["plan"]
    assert api.get("/api/v1/instances/99999999", headers=headers).status_code == 404


def test_a_retried_post_with_the_same_key_gets_the_first_answer_and_runs_once(api: TestClient, db: Session) -> None:
    headers = {**bearer(token_for(db, "a-admin", "reseller-a")), "Idempotency-Key": "restart-1"}
    instance = db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    instance.status = "running"
    db.add(instance)
    db.commit()
    first = api.post(f"/api/v1/instances/{instance.id}/restart", headers=headers)
    again = api.post(f"/api/v1/instances/{instance.id}/restart", headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    restarts = db.exec(
        select(ProvisioningAction).where(
            ProvisioningAction.instance_id == instance.id, ProvisioningAction.action == "restart"
        )
    ).all()
    assert len(restarts) == 1
    other = api.post(f"/api/v1/instances/{instance.id}/stop", headers=headers)  # same key, another request
    assert other.status_code == 422


def test_each_token_has_its_own_rate_limit(api: TestClient, db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("API_RATE_PER_TOKEN", "3/minute")
    busy, calm = bearer(token_for(db, "a-admin", "reseller-a")), bearer(token_for(db, "operator", "platform"))
    assert [api.get("/api/v1/me", headers=busy).status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/api/v1/me", headers=busy)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert api.get("/api/v1/me", headers=calm).status_code == 200


def test_a_reseller_creates_a_customer_free_at_once_paid_with_a_checkout_link(
    api: TestClient, db: Session, scheduled_actions: list
) -> None:
    free, paid = offered_plans(db, "reseller-a")
    headers = bearer(token_for(db, "a-admin", "reseller-a"))
    made = api.post(
        "/api/v1/customers",
        headers=headers,
        json={"email": "New.Shopper@Example.com", "username": "newshopper", "plan": free.slug},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["organization"]["parent_id"] == _org(db, "reseller-a").id and body["checkout_url"] is None
    assert body["instance"]["subdomain"] == "newshopper" and scheduled_actions  # provisioning queued at once
    invitation = db.get(Invitation, body["invitation_id"])
    assert invitation is not None and invitation.email == "new.shopper@example.com" and invitation.role == "owner"
    assert db.exec(select(WebhookEvent).where(WebhookEvent.type == "customer.created")).one()
    paid_one = api.post(
        "/api/v1/customers",
        headers=headers,
        json={"email": "payer@example.com", "username": "payer1", "plan": paid.slug},
    )
    assert paid_one.status_code == 201 and paid_one.json()["checkout_url"]
    taken = api.post(
        "/api/v1/customers",
        headers=headers,
        json={"email": "x@example.com", "username": "newshopper", "plan": free.slug},
    )
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "username"
    support = bearer(token_for(db, "a-support", "reseller-a", ("customers:read",)))
    refused = api.post(
        "/api/v1/customers", headers=support, json={"email": "y@example.com", "username": "y1", "plan": free.slug}
    )
    assert refused.status_code == 403


def _new(email: str, username: str, plan: str) -> dict[str, str]:
    return {"email": email, "username": username, "plan": plan}


def test_openapi_and_docs_are_published_and_neutral(api: TestClient) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"] == "Platform API"
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200 and "<script" not in docs.text and "/instances" in docs.text


def test_the_token_s_own_person_exports_their_data_with_the_export_scope_only(api: TestClient, db: Session) -> None:
    support, reseller = _user(db, "a-support"), _org(db, "reseller-a")
    without = issue_api_token(db, support.id, reseller.id, "ops", ["instances:read"])  # type: ignore[arg-type]
    export = issue_api_token(db, support.id, reseller.id, "mine", ["account:export"])  # type: ignore[arg-type]
    db.commit()
    refused = api.get("/api/v1/me/export", headers=bearer(without.token))
    assert refused.status_code == 403 and "account:export" in refused.json()["detail"]
    answer = api.get("/api/v1/me/export", headers=bearer(export.token))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert json.loads(archive.read("account.json"))["email"] == support.email  # the token's person, nobody else
