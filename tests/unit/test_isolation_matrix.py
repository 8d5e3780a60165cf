"""The isolation matrix: every state handler and every HTTP route, tried by each role of tenant A against tenant
B's records. All refused, all audited, nothing of B changed.

The list of handlers and routes comes from the code (every rx.State of portal/, every route of the API), so a new
handler or route without an entry here fails `test_every_handler_and_route_has_a_probe`. An entry is either a
probe (an async function that aims the handler at B's record) or a stated reason why the handler reaches no
tenant's record by id (signing in, public pages, the caller's own organization only).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from reflex.state import State
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from portal.api import STRIPE_WEBHOOK_PATH, WebhookFastPath, api_transformer, build_api
from portal.api.guards import UPLOAD_PATH
from portal.state.admin import AdminState
from portal.state.admin_customers import ConsoleState
from portal.state.admin_servers import ServersState
from portal.state.admin_team import TeamState
from portal.state.backups import BackupsState
from portal.state.branding_editor import BrandingEditorState
from portal.state.customer_team import CustomerTeamState
from portal.state.dashboard import DashboardState
from portal.state.developers import DevelopersState
from portal.state.domains import DomainsState
from portal.state.history import HistoryState
from portal.state.instance_tools import InstanceToolsState
from portal.state.invitations import InvitationsState
from portal.state.usage import UsageState
from services.accounts.passwords import hash_password
from services.accounts.sessions import create_session
from services.gateway.keys import rotate_gateway_key
from services.keys.usage_tokens import issue_instance_token
from services.models import (
    ApiToken,
    AppTemplate,
    AuditEvent,
    Backup,
    Branding,
    Budget,
    Domain,
    Instance,
    Invitation,
    Licence,
    Membership,
    Organization,
    Plan,
    ProvisioningAction,
    Role,
    Server,
    StripeEvent,
    UsageRecord,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from services.models.base import utcnow
from services.tenancy.licences import FEATURES
from tests.support.asgi import run_in_own_loop
from tests.support.billing import reflex_stand_in
from tests.support.env import patched_env
from tests.support.states import Browser

DENIALS = ("admin.denied", "customer.denied", "account.invitation_denied")
STAFF_ROLES = ("owner", "admin", "support", "billing", "member")
CUSTOMER_ROLES = ("owner", "admin", "billing", "member")


@dataclass
class Tenants:
    db: Session
    staff: dict[str, User]  # reseller A's people, by role
    customers: dict[str, User]  # customer A's people, by role
    b: dict[str, Any]  # tenant B's records


def _user(db: Session, name: str, org: Organization, role: str) -> User:
    user = User(
        email=f"{name}@example.com",
        username=name,
        password_hash=hash_password("irrelevant-pass"),
        email_verified_at=utcnow(),
    )
    db.add(user)
    db.flush()
    db.add(Membership(user_id=user.id, organization_id=org.id, role=role))  # type: ignore[arg-type]
    return user


@pytest.fixture()
def tenants(db: Session, tree: dict) -> Tenants:
    orgs = {o.slug: o for o in db.exec(select(Organization)).all()}
    staff = {role: _user(db, f"a-{role}-x", orgs["reseller-a"], role) for role in STAFF_ROLES}
    customers = {"owner": db.exec(select(User).where(User.username == "cust-a")).one()}
    customers |= {role: _user(db, f"cust-a-{role}", orgs["cust-a"], role) for role in CUSTOMER_ROLES[1:]}
    reseller_b, cust_b = orgs["reseller-b"], orgs["cust-b"]
    instance_b = db.exec(select(Instance).where(Instance.organization_id == cust_b.id)).one()
    instance_b.status = "running"
    template_b = AppTemplate(organization_id=reseller_b.id, name="B app", slug="b-app", image="b/app:1")
    plan_b = Plan(organization_id=reseller_b.id, name="B plan", slug="b-plan", price_cents=0)
    db.add_all(
        [
            instance_b,
            template_b,
            plan_b,
            Branding(organization_id=reseller_b.id, platform_name="B brand", words={"en": {"Sign in": "Log in to B"}}),
            Licence(organization_id=reseller_b.id, tier="pro", features=list(FEATURES)),
            Licence(organization_id=orgs["reseller-a"].id, tier="pro", features=list(FEATURES)),
            Budget(subscription_id=instance_b.subscription_id, total_micros=10_000_000, used_micros=5),  # type: ignore[arg-type]
            UsageRecord(
                instance_id=instance_b.id,
                model="b-model",
                cost_micros=5,  # type: ignore[arg-type]
                occurred_at=datetime.now(UTC),
                idempotency_key="b-1",
            ),
            StripeEvent(stripe_id="evt_b", type="invoice.paid", payload={}, status="failed"),
        ]
    )
    db.flush()
    invitation_b = Invitation(
        organization_id=reseller_b.id,
        email="someone@example.com",
        role=Role.SUPPORT,
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    db.add(invitation_b)
    endpoint_b = WebhookEndpoint(
        organization_id=reseller_b.id, url="https://hooks.b.example/in", event_types=["customer.created"]
    )
    event_b = WebhookEvent(msg_id="msg_b_matrix", organization_id=cust_b.id, type="customer.created", payload={})
    token_b = ApiToken(
        organization_id=reseller_b.id, name="b", prefix="pat_b", token_hash="b" * 64, scopes="audit:read"
    )
    db.add_all([endpoint_b, event_b, token_b])
    db.flush()
    delivery_b = WebhookDelivery(endpoint_id=endpoint_b.id, event_id=event_b.id, status="failed")  # type: ignore[arg-type]
    db.add(delivery_b)
    seller_domain_b = Domain(hostname="portal.b.example", organization_id=reseller_b.id, verified_at=utcnow())
    customer_domain_b = Domain(hostname="app.b.example", organization_id=cust_b.id, instance_id=instance_b.id)
    backup_b = Backup(
        id="bbackup0000000001",
        instance_id=instance_b.id,
        organization_id=cust_b.id,
        status="complete",
        store="folder",
        object_key=f"instance-{instance_b.id}/bbackup0000000001.tar.zst",
        sha256="0" * 64,
    )
    db.add_all([seller_domain_b, customer_domain_b, backup_b, Server(name="pool-1", address="unix:///run/p.sock")])
    db.commit()
    user_b = db.exec(select(User).where(User.username == "cust-b")).one()
    b = {
        "reseller": reseller_b,
        "customer": cust_b,
        "instance": instance_b,
        "action": tree["b"],
        "plan": plan_b,
        "template": template_b,
        "user": user_b,
        "invitation": invitation_b,
        "membership": db.exec(select(Membership).where(Membership.user_id == user_b.id)).one(),
        "instance_token": issue_instance_token(db, instance_b),
        "seller_domain": seller_domain_b,
        "endpoint": endpoint_b,
        "delivery": delivery_b,
        "api_token": token_b,
        "customer_domain": customer_domain_b,
        "backup": backup_b,
    }
    db.commit()
    return Tenants(db=db, staff=staff, customers=customers, b=b)


def _snapshot(db: Session, b: dict[str, Any]) -> dict[str, Any]:
    """Everything of tenant B a probe could change."""
    db.expire_all()
    reseller, customer = b["reseller"].id, b["customer"].id
    return {
        "instance": db.get(Instance, b["instance"].id).model_dump(exclude={"updated_at"}),  # type: ignore[union-attr]
        "actions": sorted(
            (a.id, a.status)
            for a in db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == b["instance"].id)).all()
        ),
        "plan": db.get(Plan, b["plan"].id).model_dump(),  # type: ignore[union-attr]
        "template": db.get(AppTemplate, b["template"].id).model_dump(),  # type: ignore[union-attr]
        "memberships": sorted(
            (m.user_id, m.organization_id, m.role)
            for m in db.exec(select(Membership).where(Membership.organization_id.in_((reseller, customer)))).all()
        ),  # type: ignore[attr-defined]
        "user": db.get(User, b["user"].id).model_dump(exclude={"last_login_at"}),  # type: ignore[union-attr]
        "invitations": sorted(
            (i.id, i.status) for i in db.exec(select(Invitation)).all() if i.organization_id == reseller
        ),
        "branding": db.exec(select(Branding).where(Branding.organization_id == reseller)).one().model_dump(),
        "domains": sorted(
            (d.hostname, d.status, d.verified_at is not None, d.next_check_at)
            for d in db.exec(select(Domain).where(Domain.organization_id.in_((reseller, customer)))).all()  # type: ignore[attr-defined]
        ),
        "licence": db.exec(select(Licence).where(Licence.organization_id == reseller)).one().model_dump(),
        "usage": db.exec(
            select(func.count()).select_from(UsageRecord).where(UsageRecord.instance_id == b["instance"].id)
        ).one(),
        "budget": db.exec(
            select(Budget.used_micros).where(Budget.subscription_id == b["instance"].subscription_id)
        ).one(),
        "events": sorted((e.stripe_id, e.status, e.attempts) for e in db.exec(select(StripeEvent)).all()),
        "webhooks": db.get(WebhookEndpoint, b["endpoint"].id).model_dump()  # type: ignore[union-attr]
        if db.get(WebhookEndpoint, b["endpoint"].id)
        else None,
        "delivery": db.get(WebhookDelivery, b["delivery"].id).model_dump(),  # type: ignore[union-attr]
        "api_token": db.get(ApiToken, b["api_token"].id).model_dump(),  # type: ignore[union-attr]
        "servers": sorted((x.name, x.state) for x in db.exec(select(Server)).all()),
        "backups": sorted(
            (r.id, r.status, r.kind) for r in db.exec(select(Backup).where(Backup.organization_id == customer)).all()
        ),
    }


def _denials(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(DENIALS))).one()  # type: ignore[attr-defined]


Probe = Callable[[Browser, dict[str, Any]], Awaitable[Any]]


async def _with_view(browser: Browser, b: dict[str, Any]) -> None:
    """A tampered dashboard: the state names B's instance (as a forged event or a stale view could)."""
    (await browser.state(DashboardState)).view = {"instance_id": b["instance"].id}


async def _tampered_editor(browser: Browser, b: dict[str, Any]) -> BrandingEditorState:
    editor = await browser.state(BrandingEditorState)
    editor._org_id = b["reseller"].id
    return editor


class _Upload:
    filename = "logo.png"

    async def read(self) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _control(browser: Browser, b: dict[str, Any]) -> Any:
    await _with_view(browser, b)
    return await browser.call(DashboardState, "control", "restart")


async def _tool(name: str, browser: Browser, b: dict[str, Any]) -> Any:
    await _with_view(browser, b)
    return await browser.call(InstanceToolsState, name)


async def _usage(name: str, browser: Browser, b: dict[str, Any], *args: Any) -> Any:
    await _with_view(browser, b)
    return await browser.call(UsageState, name, *args)


async def _history(browser: Browser, b: dict[str, Any]) -> Any:
    await _with_view(browser, b)
    return await browser.call(HistoryState, "load")


async def _domains(name: str, browser: Browser, b: dict[str, Any], *args: Any) -> Any:
    await _with_view(browser, b)
    return await browser.call(DomainsState, name, *args)


async def _backups(name: str, browser: Browser, b: dict[str, Any], *args: Any) -> Any:
    """A tampered backups page: its view names B's instance; restore and download name B's backup."""
    (await browser.state(BackupsState)).view = {"instance_id": b["instance"].id}
    return await browser.call(BackupsState, name, *args)


async def _developers(name: str, browser: Browser, b: dict[str, Any], *args: Any) -> Any:
    developers = await browser.state(DevelopersState)
    developers.deliveries_of = str(b["endpoint"].id)  # a tampered page: B's endpoint's log is "open"
    return await browser.call(DevelopersState, name, *args)


async def _editor(name: str, browser: Browser, b: dict[str, Any], *args: Any) -> Any:
    editor = await _tampered_editor(browser, b)
    if name == "save":
        editor.own = {"platform_name": "Hijacked", "custom_css": "h1 { color: red }"}
    if name == "save_email":
        editor.email_parts = {"subject": "Hijacked"}
    if name == "save_word":
        editor.word_language, editor.word_text, editor.word_replacement = "en", "Sign in", "Hijacked"
    return await browser.call(BrandingEditorState, name, *args)


async def _bulk(browser: Browser, b: dict[str, Any]) -> Any:
    await browser.call(ConsoleState, "toggle_selected", str(b["instance"].id), True)
    return await browser.call(ConsoleState, "bulk", "restart")


async def _save_plan(browser: Browser, b: dict[str, Any]) -> Any:
    team = await browser.state(TeamState)
    team.plan_form = {"id": str(b["plan"].id), "name": "Hijacked", "slug": "b-plan", "price_cents": "0"}
    return await browser.call(TeamState, "save_plan_form")


async def _save_template(browser: Browser, b: dict[str, Any]) -> Any:
    team = await browser.state(TeamState)
    team.template_form = {
        "id": str(b["template"].id),
        "name": "Hijacked",
        "slug": "b-app",
        "backend": "docker",
        "image": "evil/app:1",
        "port": "8080",
        "health_path": "/",
        "env_template": "",
    }
    return await browser.call(TeamState, "save_template_form")


PROBES: dict[str, Probe] = {
    "DashboardState.control": _control,
    "HistoryState.load": lambda br, b: _history(br, b),
    # the platform's own chart (Stripe's webhook backlog): every reseller role is refused it, and audited
    "ConsoleState.download_trend": lambda br, b: br.call(ConsoleState, "download_trend", "webhooks"),
    "BackupsState.back_up_now": lambda br, b: _backups("back_up_now", br, b),
    # the pool carries every tenant's instances: reseller staff are refused all of it, and audited
    "ServersState.load": lambda br, b: br.call(ServersState, "load"),
    "ServersState.add": lambda br, b: br.call(
        ServersState, "add", {"name": "rogue", "backend": "docker", "address": "unix:///run/rogue.sock"}
    ),
    "ServersState.change": lambda br, b: br.call(ServersState, "change", "pool-1", "drain"),
    "ServersState.recover": lambda br, b: br.call(ServersState, "recover", "pool-1"),
    "BackupsState.restore": lambda br, b: _backups("restore", br, b, b["backup"].id),
    "BackupsState.download": lambda br, b: _backups("download", br, b, b["backup"].id),
    "InstanceToolsState.show_logs": lambda br, b: _tool("show_logs", br, b),
    "InstanceToolsState.reveal_credentials": lambda br, b: _tool("reveal_credentials", br, b),
    "InstanceToolsState.rotate_token": lambda br, b: _tool("rotate_token", br, b),
    "InstanceToolsState.rotate_gateway_key": lambda br, b: _tool("rotate_gateway_key", br, b),
    "InstanceToolsState.reset_admin_password": lambda br, b: _tool("reset_admin_password", br, b),
    "UsageState.load": lambda br, b: _usage("load", br, b, 1),
    "UsageState.turn": lambda br, b: _usage("turn", br, b, 1),
    "UsageState.export_csv": lambda br, b: _usage("export_csv", br, b),
    "DomainsState.load": lambda br, b: _domains("load", br, b),
    "DomainsState.add": lambda br, b: _domains("add", br, b, {"hostname": "hijack.example.org"}),
    "DomainsState.remove": lambda br, b: _domains("remove", br, b, b["customer_domain"].id),
    "DomainsState.check_now": lambda br, b: _domains("check_now", br, b, b["customer_domain"].id),
    "DomainsState.remove_seller_domain": lambda br, b: _domains("remove", br, b, b["seller_domain"].id),
    "AdminState.retry": lambda br, b: br.call(AdminState, "retry", b["action"].id),
    "AdminState.replay": lambda br, b: br.call(AdminState, "replay", "evt_b"),
    "ConsoleState.check_health": lambda br, b: br.call(ConsoleState, "check_health", str(b["instance"].id)),
    "ConsoleState.show_logs": lambda br, b: br.call(ConsoleState, "show_logs", str(b["instance"].id)),
    "ConsoleState.instance_action": lambda br, b: br.call(
        ConsoleState, "instance_action", str(b["instance"].id), "stop"
    ),
    "ConsoleState.open_customer": lambda br, b: br.call(ConsoleState, "open_customer", str(b["customer"].id)),
    "ConsoleState.impersonate": lambda br, b: br.call(ConsoleState, "impersonate", str(b["user"].id)),
    "ConsoleState.bulk": _bulk,
    "ConsoleState.toggle_selected": _bulk,
    "TeamState.archive_plan": lambda br, b: br.call(TeamState, "archive_plan", str(b["plan"].id)),
    "TeamState.archive_template": lambda br, b: br.call(TeamState, "archive_template", str(b["template"].id)),
    "TeamState.change_role": lambda br, b: br.call(TeamState, "change_role", str(b["membership"].id), "member"),
    "CustomerTeamState.change_role": lambda br, b: br.call(
        CustomerTeamState, "change_role", str(b["membership"].id), "owner"
    ),
    "CustomerTeamState.remove": lambda br, b: br.call(CustomerTeamState, "remove", str(b["membership"].id)),
    "CustomerTeamState.withdraw": lambda br, b: br.call(CustomerTeamState, "withdraw", str(b["invitation"].id)),
    "TeamState.toggle_disabled": lambda br, b: br.call(TeamState, "toggle_disabled", str(b["user"].id), True),
    "TeamState.revoke_invitation": lambda br, b: br.call(TeamState, "revoke_invitation", str(b["invitation"].id)),
    "TeamState.save_licence": lambda br, b: br.call(
        TeamState, "save_licence", {"organization_id": str(b["reseller"].id), "tier": "hijacked"}
    ),
    "TeamState.save_plan_form": _save_plan,
    "TeamState.edit_plan": _save_plan,
    "TeamState.set_plan_field": _save_plan,
    "TeamState.save_template_form": _save_template,
    "TeamState.edit_template": _save_template,
    "TeamState.set_template_field": _save_template,
    "BrandingEditorState.save": lambda br, b: _editor("save", br, b),
    "BrandingEditorState.set_field": lambda br, b: _editor("save", br, b),
    "BrandingEditorState.set_hide": lambda br, b: _editor("save", br, b),
    "BrandingEditorState.save_email": lambda br, b: _editor("save_email", br, b),
    "BrandingEditorState.set_email_part": lambda br, b: _editor("save_email", br, b),
    "BrandingEditorState.choose_email": lambda br, b: _editor("save_email", br, b),
    "BrandingEditorState.choose_email_language": lambda br, b: _editor("save_email", br, b),
    "BrandingEditorState.save_word": lambda br, b: _editor("save_word", br, b),
    "BrandingEditorState.set_word": lambda br, b: _editor("save_word", br, b),
    "BrandingEditorState.remove_word": lambda br, b: _editor("remove_word", br, b, "Sign in"),
    "BrandingEditorState.add_domain": lambda br, b: _editor("add_domain", br, b, {"hostname": "portal.hijack.example"}),
    "BrandingEditorState.remove_domain": lambda br, b: _editor("remove_domain", br, b, b["seller_domain"].id),
    "BrandingEditorState.check_domain": lambda br, b: _editor("check_domain", br, b, b["seller_domain"].id),
    "BrandingEditorState.remove_customer_domain": lambda br, b: _editor(
        "remove_domain", br, b, b["customer_domain"].id
    ),
    "BrandingEditorState.upload_logo": lambda br, b: _editor("upload_logo", br, b, [_Upload()]),
    "BrandingEditorState.upload_favicon": lambda br, b: _editor("upload_favicon", br, b, [_Upload()]),
    "BrandingEditorState.set_sender": lambda br, b: _editor("set_sender", br, b, {"sender_email": "x@hijack.example"}),
    "BrandingEditorState.verify_sender": lambda br, b: _editor("verify_sender", br, b),
    "DevelopersState.revoke_token": lambda br, b: _developers("revoke_token", br, b, str(b["api_token"].id)),
    "DevelopersState.toggle_endpoint": lambda br, b: _developers(
        "toggle_endpoint", br, b, str(b["endpoint"].id), False
    ),
    "DevelopersState.rotate_secret": lambda br, b: _developers("rotate_secret", br, b, str(b["endpoint"].id)),
    "DevelopersState.delete_endpoint": lambda br, b: _developers("delete_endpoint", br, b, str(b["endpoint"].id)),
    "DevelopersState.show_deliveries": lambda br, b: _developers("show_deliveries", br, b, str(b["endpoint"].id)),
    "DevelopersState.replay": lambda br, b: _developers("replay", br, b, str(b["delivery"].id)),
    "InvitationsState.respond": lambda br, b: br.call(InvitationsState, "respond", str(b["invitation"].id), True),
}
# Handlers that take no id of anyone's record: what they read or change is decided by the session alone.
NO_RECORD_ID = {
    "AuthState.*": "signing in and out, impersonation's end: the caller's own sessions",
    "LanguageState.*": "the page's language: this browser's choice and the signed-in person's own account",
    "LoginState.*": "signing in",
    "SignupState.*": "signing up",
    "ResetState.*": "password reset by e-mailed token",
    "VerifyState.*": "e-mail confirmation by e-mailed token",
    "PricingState.*": "public plans of the host's seller",
    "BrandState.*": "the host's public brand",
    "TestCheckoutState.*": "test-mode checkout, named by its unguessable session id from the checkout redirect",
    "CheckoutReturnState.*": "the checkout return page (unguessable session id) and the caller's own retry",
    "SecurityState.*": "the caller's own two-factor sign-in and sessions",
    "AccountState.*": "the caller's own password",
    "EmailChangeState.*": "the caller's own e-mail address (its password asked again)",
    "PrivacyState.*": "the caller's own account: its export and its deletion (password and second factor asked)",
    "EmailLinkState.*": "an e-mail change confirmed or undone by its e-mailed token",
    "DashboardState.load": "the caller's own organization",
    "DashboardState.follow": "the caller's own organization",
    "DashboardState.manage_billing": "the caller's own organization (billing role checked)",
    "DashboardState.pay_now": "the caller's own organization (billing role checked)",
    "DashboardState.apply_plan_change": "the caller's own organization (billing role checked)",
    "DashboardState.set_target_plan": "a form field",
    "CustomerTeamState.load": "the caller's own organization's team",
    "CustomerTeamState.invite": "invites into the caller's own organization only (manage role checked)",
    "CustomerTeamState.leave": "the caller's own membership",
    "BillingState.load": "the caller's own organization's subscription and invoices (billing role checked)",
    "BillingState.cancel": "the caller's own organization's subscription (billing role checked)",
    "BillingState.resume": "the caller's own organization's subscription (billing role checked)",
    "BillingState.downgrade": "the caller's own subscription, to a plan its own seller offers (billing role checked)",
    "BillingState.undo_downgrade": "the caller's own organization's subscription (billing role checked)",
    "BillingState.delete_instance": "the caller's own free instance (the owner only, never while impersonating)",
    "BillingState.set_confirm_subdomain": "a form field",
    "DevelopersState.load": "the caller's own organization only",
    "DevelopersState.create_token": "a token of the caller's own organization, within their own role",
    "DevelopersState.create_endpoint": "an endpoint of the caller's own organization",
    "DomainsState.follow": "refreshes through the same checked call as DomainsState.load (probed)",
    "InstanceToolsState.hide_logs": "a display toggle",
    "AdminState.load": "lists scoped to the actor",
    "AdminState.filter_events": "a filter of scoped lists",
    "AdminState.events_page": "paging of scoped lists",
    "AdminState.filter_actions": "a filter of scoped lists",
    "ConsoleState.load_console": "lists scoped to the actor",
    "ConsoleState.set_search": "a filter",
    "ConsoleState.set_status_filter": "a filter",
    "ConsoleState.set_plan_filter": "a filter",
    "ConsoleState.turn": "paging",
    "ConsoleState.set_audit_action": "a filter",
    "TeamState.load_team": "lists scoped to the actor",
    "BackupsState.load": "the backups of the caller's own organization's instance, found from the caller's membership",
    "TeamState.search_people": "a filter",
    "TeamState.invite": "invites into the actor's own organization only",
    "PayoutsState.*": "the actor's own seller organization's Stripe account (billing or manage role checked)",
    "TestConnectState.*": "test-mode onboarding of a connected account, named by its unguessable id from Stripe's "
    "(the stand-in's) onboarding link",
    "TeamState.create_seller": "creates a seller under the actor's own organization only (manage role checked)",
    "BrandingEditorState.load_editor": "the actor's own organization",
    "InvitationsState.load": "invitations addressed to the caller's own confirmed address",
    "InvitationsState.load_offer": "a new person's invitation, by its e-mailed token",
    "InvitationsState.accept_with_password": "a new person's invitation, by its e-mailed token",
}
ROUTES_EXEMPT = {
    "/api/health": "public health check, no tenant data",
    STRIPE_WEBHOOK_PATH: "Stripe-signed events, no tenant identity in the request",
    "/api/brand-assets/{name}": "sellers' logos, public by design (shown on their public pages)",
    "/api/v1": "the platform API: every route is probed by tests/unit/api/test_api_isolation.py (a new one without a "
    "probe fails there)",
    "/api/edge/ask": "the edge's certificate question: yes or no for a host name, no tenant's records or identity "
    "(tests/unit/domains/test_claims.py)",
    "/api/billing/local-invoices/{invoice}": "test-mode invoices by their unguessable id, the capability as "
    "Stripe's hosted invoice links are; no session's identity is used (tests/unit/billing/"
    "test_subscription_self_service.py: a guessed id or another object's id opens nothing)",
    "/metrics": "platform-wide counts, no tenant's records or labels; the platform's METRICS_TOKEN (404 in production "
    "without one), tested in tests/unit/ops/test_metrics.py",
}


def _portal_states() -> list[type]:
    found, pending = [], [State]
    while pending:
        for sub in pending.pop().get_substates():
            pending.append(sub)
            if sub.__module__.startswith("portal."):
                found.append(sub)
    return found


def _handlers() -> list[str]:
    return sorted(
        f"{cls.__name__}.{name}" for cls in _portal_states() for name in cls.event_handlers if name != "setvar"
    )  # setvar only reaches the state's own set_* handlers, listed themselves


def _entry(handler: str) -> Probe | str | None:
    return (
        PROBES.get(handler) or NO_RECORD_ID.get(handler) or NO_RECORD_ID.get(handler.split(".", maxsplit=1)[0] + ".*")
    )


def test_every_handler_and_route_has_a_probe() -> None:
    missing = [h for h in _handlers() if _entry(h) is None]
    assert missing == [], f"state handlers without an isolation probe (add one to PROBES): {missing}"
    routes = {getattr(r, "path", "") for r in build_api().routes} | {STRIPE_WEBHOOK_PATH, UPLOAD_PATH}
    unprobed = routes - set(ROUTES_EXEMPT) - set(ROUTE_PROBES)
    assert unprobed == set(), f"HTTP routes without an isolation probe: {unprobed}"
    assert all(inspect.iscoroutinefunction(p) or callable(p) for p in PROBES.values())


def _signed_in(tenants: Tenants, user: User) -> Browser:
    browser = Browser()
    token = create_session(tenants.db, user.id)  # type: ignore[arg-type]
    tenants.db.commit()
    run_in_own_loop(browser.sign_in(token))
    return browser


def _run_probes(tenants: Tenants, user: User, handlers: list[str]) -> None:
    for handler in handlers:
        before, denials = _snapshot(tenants.db, tenants.b), _denials(tenants.db)
        browser = _signed_in(tenants, user)
        run_in_own_loop(PROBES[handler](browser, tenants.b))  # type: ignore[arg-type]
        assert _snapshot(tenants.db, tenants.b) == before, f"{handler} as {user.username} changed tenant B"
        assert _denials(tenants.db) > denials, f"{handler} as {user.username} was not refused and audited"


STAFF_SIDE = sorted(
    h
    for h in PROBES
    if not h.startswith(
        (
            "DashboardState",
            "InstanceToolsState",
            "UsageState",
            "InvitationsState",
            "DomainsState",
            "CustomerTeamState",
            "BackupsState",
            "HistoryState",
        )
    )
)
CUSTOMER_SIDE = sorted((set(PROBES) - set(STAFF_SIDE)) | {h for h in PROBES if h.startswith("DevelopersState")})


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_role_of_reseller_a_is_refused_every_console_action_on_tenant_b(
    tenants: Tenants, role: str, scheduled_actions: list
) -> None:
    _run_probes(tenants, tenants.staff[role], STAFF_SIDE)
    assert scheduled_actions == []


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_each_role_of_customer_a_is_refused_every_dashboard_action_on_tenant_b(
    tenants: Tenants, role: str, scheduled_actions: list
) -> None:
    _run_probes(tenants, tenants.customers[role], CUSTOMER_SIDE)
    assert scheduled_actions == []


def _usage_probe(client: TestClient, tenants: Tenants, token: str) -> None:
    body = {
        "records": [
            {
                "id": "x1",
                "model": "m",
                "tokens_in": 1,
                "tokens_out": 1,
                "cost": "1",
                "occurred_at": datetime.now(UTC).isoformat(),
                "instance_id": tenants.b["instance"].id,
            }
        ]
    }
    client.post("/api/v1/usage", content=json.dumps(body), headers={"Authorization": f"Bearer {token}"})


def _gateway_usage_probe(client: TestClient, tenants: Tenants, token: str) -> None:
    """Only the gateway's master key reports usage: with the gateway on, a tenant's own usage token and its own
    gateway key are both refused, and a record naming B's instance changes nothing."""
    own = tenants.db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    gateway_key = rotate_gateway_key(tenants.db, own)
    tenants.db.commit()
    body = {
        "records": [
            {
                "id": "g1",
                "instance_id": tenants.b["instance"].id,
                "model": "m",
                "cost": "1",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        ]
    }
    with patched_env(AI_GATEWAY_URL="http://127.0.0.1:9", AI_GATEWAY_MASTER_KEY="sk-master-" + "x" * 20):
        for credential in (token, gateway_key, "", "sk-master-"):
            answer = client.post("/api/gateway/usage", json=body, headers={"Authorization": f"Bearer {credential}"})
            assert answer.status_code == 401, credential


def _budget_probe(client: TestClient, tenants: Tenants, token: str) -> None:
    answer = client.get(
        f"/api/v1/budget?instance_id={tenants.b['instance'].id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert answer.get("used") != "0.000005"  # never B's counter


def _upload_probe(client: TestClient, tenants: Tenants, token: str) -> None:
    response = client.post(
        UPLOAD_PATH,
        content=b"x",
        headers={"reflex-client-token": "someone-elses-browser", "reflex-event-handler": "anything"},
    )
    assert response.status_code in (403, 411)


def _backup_download_probe(client: TestClient, tenants: Tenants, token: str) -> None:
    """A download link opens one backup for the person it was made for, while they may still download it: a link
    naming B's backup for one of A's people, a forged one and an empty one all open nothing."""
    from services.crypto import encrypt

    backup_id = tenants.b["backup"].id
    for person in tenants.customers.values():
        link = encrypt(f"backup-download:{backup_id}:{person.id}")
        assert client.get(f"/api/backups/download?token={link}").status_code == 404
    for forged in ("", "garbage", encrypt(f"other-purpose:{backup_id}:{tenants.b['user'].id}")):
        assert client.get(f"/api/backups/download?token={forged}").status_code == 404


ROUTE_PROBES: dict[str, Callable[[TestClient, Tenants, str], None]] = {
    "/api/backups/download": _backup_download_probe,
    "/api/v1/usage": _usage_probe,
    "/api/v1/budget": _budget_probe,
    "/api/gateway/usage": _gateway_usage_probe,
    UPLOAD_PATH: _upload_probe,
}


def test_routes_reach_only_the_callers_own_instance(tenants: Tenants) -> None:
    from portal.api.guards import UploadGuard

    own = tenants.db.exec(select(Instance).where(Instance.subdomain == "cust-a")).one()
    token = issue_instance_token(tenants.db, own)
    tenants.db.commit()
    app = UploadGuard(WebhookFastPath(api_transformer(reflex_stand_in)), object, lambda: set(), lambda: None)
    client = TestClient(app, raise_server_exceptions=False)
    before = _snapshot(tenants.db, tenants.b)
    for path, probe in ROUTE_PROBES.items():
        probe(client, tenants, token)
        assert _snapshot(tenants.db, tenants.b) == before, path
