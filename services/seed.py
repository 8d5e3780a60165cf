"""Demo data for `make run`: idempotent (looked up by slug/e-mail), so running it again changes nothing."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from services.accounts.passwords import hash_password
from services.config import get_settings
from services.crypto import new_token
from services.db import session_scope
from services.models import (
    AppTemplate,
    Branding,
    Budget,
    Domain,
    DomainStatus,
    Instance,
    Licence,
    Membership,
    Organization,
    OrgKind,
    Plan,
    Role,
    Subscription,
    UsageDaily,
    UsageRecord,
    User,
)
from services.models.base import key, utcnow
from services.money import MICROS_PER_UNIT
from services.provisioning.credentials import ensure_credentials
from services.tenancy.licences import FEATURES

log = logging.getLogger(__name__)

DEMO_ENV_TEMPLATE = """\
ADMIN_EMAIL={{ customer.email }}
ADMIN_PASSWORD={{ secrets.admin_password }}
SECRET_KEY={{ secrets.secret_key }}
CUSTOM_DOMAIN={{ domain }}
INSTANCE_MAX_CONCURRENT_PROJECTS={{ limits.max_concurrent_projects }}
INSTANCE_MAX_PARALLEL_REQUESTS={{ limits.max_parallel_requests }}
INSTANCE_MAX_REQUESTS_PER_MINUTE={{ limits.max_requests_per_minute }}
PREDEFINED_ENDPOINTS={{ endpoints | tojson }}
PORTAL_API_URL={{ portal.api_url }}
PORTAL_USAGE_TOKEN={{ portal.usage_token }}
AI_GATEWAY_URL={{ gateway.url }}
AI_GATEWAY_KEY={{ gateway.key }}
AI_GATEWAY_MODELS={{ gateway.models }}
"""

DEMO_LOGINS = (
    # (e-mail, username, organization slug, role)
    ("admin@example.com", "operator", "platform", Role.OWNER),
    ("owner@acme.example.com", "acme-owner", "acme", Role.OWNER),
    ("owner@beta.example.com", "beta-owner", "beta", Role.OWNER),
    ("alice@example.com", "alice", "alice", Role.OWNER),
    ("bob@example.com", "bob", "bob", Role.OWNER),
)


def _org(session: Session, slug: str, name: str, kind: str, parent: Organization | None) -> Organization:
    org = session.exec(select(Organization).where(col(Organization.slug) == slug)).first()
    if org is None:
        org = Organization(slug=slug, name=name, kind=kind, parent_id=parent.id if parent else None)
        session.add(org)
        session.flush()
    return org


def _plan(session: Session, org: Organization, slug: str, **values: Any) -> Plan:
    plan = session.exec(select(Plan).where(col(Plan.organization_id) == org.id, col(Plan.slug) == slug)).first()
    if plan is None:
        plan = Plan(organization_id=key(org), slug=slug, **values)
        session.add(plan)
        session.flush()
    return plan


def _user(session: Session, email: str, username: str, org: Organization, role: str, password: str) -> User:
    user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is None:
        user = User(email=email, username=username, password_hash=hash_password(password), email_verified_at=utcnow())
        session.add(user)
        session.flush()
        session.add(Membership(user_id=key(user), organization_id=key(org), role=role))
    return user


def _customer(session: Session, slug: str, parent: Organization, plan: Plan, template: AppTemplate) -> None:
    org = _org(session, slug, slug, OrgKind.CUSTOMER, parent)
    if session.exec(select(Instance).where(col(Instance.subdomain) == slug)).first():
        return
    now = utcnow()
    sub = Subscription(
        organization_id=key(org),
        plan_id=key(plan),
        status="active",
        current_period_end=now + timedelta(days=30),
    )
    session.add(sub)
    session.flush()
    instance = Instance(
        organization_id=key(org),
        subscription_id=sub.id,
        app_template_id=template.id,
        subdomain=slug,
        backend=template.backend,
        status="unknown",
        desired_state="running",
    )
    ensure_credentials(session, instance)  # as provisioning would have: restart and repair render the template
    session.add(instance)
    session.flush()
    used = _demo_usage(session, instance)
    session.add(
        Budget(
            subscription_id=key(sub),
            total_micros=plan.budget_included_micros,
            used_micros=used,
            period_start=now - timedelta(days=7),
            reset_at=now + timedelta(days=23),
        )
    )


def _demo_usage(session: Session, instance: Instance) -> int:
    """A week of usage with its daily rollup; deterministic so demo screenshots stay stable."""
    total = 0
    now = utcnow()
    for day_offset in range(7):
        at = (now - timedelta(days=day_offset)).replace(hour=12, minute=0, second=0, microsecond=0)
        for model, micros_per_1k_tokens in (("gpt-4o-mini", 6_000), ("claude-haiku", 12_500)):
            seed = int(hashlib.sha256(f"{instance.subdomain}{day_offset}{model}".encode()).hexdigest()[:6], 16)
            tokens_in, tokens_out = 2_000 + seed % 8_000, 500 + seed % 3_000
            cost = (tokens_in + tokens_out) * micros_per_1k_tokens // 1000
            total += cost
            session.add(
                UsageRecord(
                    instance_id=key(instance),
                    model=model,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    cost_micros=cost,
                    occurred_at=at,
                    idempotency_key=f"seed-{day_offset}-{model}",
                )
            )
            session.add(
                UsageDaily(
                    instance_id=key(instance),
                    day=at.date(),
                    model=model,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    cost_micros=cost,
                    records=1,
                )
            )
    return total


def seed_demo(session: Session) -> None:
    password = get_settings().demo_password
    platform = _org(session, "platform", "Portal Platform", OrgKind.PLATFORM, None)
    acme = _org(session, "acme", "Acme Cloud", OrgKind.RESELLER, platform)
    if session.exec(select(Branding).where(col(Branding.organization_id) == acme.id)).first() is None:
        session.add(
            Branding(
                organization_id=key(acme),
                platform_name="Acme Cloud",
                accent_color="crimson",
                gray_color="mauve",
                radius="large",
                support_email="support@acme.example.com",
                footer_text="Acme Cloud, hosting you can trust.",
            )
        )
        session.add(_local_domain("acme.localhost", key(acme)))
        session.add(
            Licence(
                organization_id=key(acme),
                tier="growth",
                features=list(FEATURES),
                max_customers=100,
                max_instances=100,
                max_domains=3,
                authorized_domains=["acme.localhost"],
            )
        )
    beta = _org(session, "beta", "Beta Hosting", OrgKind.RESELLER, platform)
    if session.exec(select(Branding).where(col(Branding.organization_id) == beta.id)).first() is None:
        session.add(
            Branding(
                organization_id=key(beta),
                platform_name="Beta Hosting",
                accent_color="grass",
                gray_color="olive",
                radius="none",
                support_email="help@beta.example.com",
                footer_text="Beta Hosting: small, fast, friendly.",
                hide_platform_branding=True,
            )
        )
        session.add(_local_domain("beta.localhost", key(beta)))
        session.add(
            Licence(
                organization_id=key(beta),
                tier="starter",
                features=list(FEATURES),
                max_customers=25,
                max_instances=25,
                max_domains=1,
                authorized_domains=["beta.localhost"],
            )
        )
    template = session.exec(select(AppTemplate).where(col(AppTemplate.slug) == "demo-app")).first()
    if template is None:
        template = AppTemplate(
            name="Demo app",
            slug="demo-app",
            backend="docker",
            image=get_settings().demo_app_image,
            internal_port=8080,
            health_path="/health",
            env_template=DEMO_ENV_TEMPLATE,
            settings={"predefined_endpoints": [{"name": "default", "url": "https://llm.example.com/v1"}]},
        )
        session.add(template)
        session.flush()
    if session.exec(select(AppTemplate).where(col(AppTemplate.slug) == "llm-app-coolify")).first() is None:
        # The same app deployed through Coolify (from a private git repository, compose build pack). Plans use the
        # Docker template by default; an admin points a plan here once COOLIFY_* is configured.
        session.add(
            AppTemplate(
                name="LLM app on Coolify",
                slug="llm-app-coolify",
                backend="coolify",
                image=None,
                internal_port=80,
                health_path="/health",
                env_template=DEMO_ENV_TEMPLATE,
                settings={
                    "git_repository": "git@github.com:example/llm-app.git",
                    "git_branch": "main",
                    "compose_location": "/docker-compose.yaml",
                    "domain_strategy": "build_script",
                    "compose_service": "app",
                    "predefined_endpoints": [{"name": "default", "url": "https://llm.example.com/v1"}],
                },
            )
        )
    limits_small = {
        "memory_mb": 256,
        "cpus": 0.5,
        "max_concurrent_projects": 1,
        "max_parallel_requests": 2,
        "ai_models": ["gpt-4o-mini"],
        "ai_rpm": 30,
        "ai_tpm": 50_000,
        "max_requests_per_minute": 30,
    }
    limits_mid = {
        "memory_mb": 512,
        "cpus": 1,
        "max_concurrent_projects": 3,
        "max_parallel_requests": 5,
        "max_requests_per_minute": 120,
        "custom_domains": 1,
        "ai_models": ["gpt-4o-mini", "gpt-4o"],
        "ai_rpm": 120,
        "ai_tpm": 200_000,
    }
    limits_big = {
        "memory_mb": 2048,
        "cpus": 2,
        "max_concurrent_projects": 10,
        "max_parallel_requests": 20,
        "max_requests_per_minute": 600,
        "custom_domains": 3,
        "ai_models": ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet"],
        "ai_rpm": 600,
        "ai_tpm": 1_000_000,
    }
    _plan(
        session,
        platform,
        "free",
        name="Free",
        description="Try it out.",
        price_cents=0,
        budget_included_micros=1 * MICROS_PER_UNIT,
        budget_policy="block",
        limits=limits_small,
        app_template_id=template.id,
        sort_order=1,
    )
    starter = _plan(
        session,
        platform,
        "starter",
        name="Starter",
        description="For individuals.",
        price_cents=1900,
        stripe_price_id="price_demo_starter",
        budget_included_micros=10 * MICROS_PER_UNIT,
        limits=limits_mid,
        app_template_id=template.id,
        sort_order=2,
    )
    _plan(
        session,
        platform,
        "pro",
        name="Pro",
        description="For teams that depend on it.",
        price_cents=4900,
        stripe_price_id="price_demo_pro",
        budget_included_micros=40 * MICROS_PER_UNIT,
        budget_policy="notify",
        limits=limits_big,
        app_template_id=template.id,
        sort_order=3,
    )
    acme_basic = _plan(
        session,
        acme,
        "acme-basic",
        name="Acme Basic",
        description="Acme's starter plan.",
        price_cents=2500,
        stripe_price_id="price_demo_acme_basic",
        budget_included_micros=15 * MICROS_PER_UNIT,
        limits=limits_mid,
        app_template_id=template.id,
        sort_order=1,
    )

    _plan(
        session,
        beta,
        "beta-free",
        name="Beta Free",
        description="Beta's free tier.",
        price_cents=0,
        budget_included_micros=1 * MICROS_PER_UNIT,
        budget_policy="block",
        limits=limits_small,
        app_template_id=template.id,
        sort_order=1,
    )
    _plan(
        session,
        beta,
        "beta-pro",
        name="Beta Pro",
        description="Beta's paid plan.",
        price_cents=1500,
        stripe_price_id="price_demo_beta_pro",
        budget_included_micros=8 * MICROS_PER_UNIT,
        limits=limits_mid,
        app_template_id=template.id,
        sort_order=2,
    )
    orgs = {"platform": platform, "acme": acme, "beta": beta}
    _customer(session, "alice", platform, starter, template)
    _customer(session, "bob", acme, acme_basic, template)
    orgs["alice"] = _org(session, "alice", "alice", OrgKind.CUSTOMER, platform)
    orgs["bob"] = _org(session, "bob", "bob", OrgKind.CUSTOMER, acme)
    for email, username, org_slug, role in DEMO_LOGINS:
        _user(session, email, username, orgs[org_slug], role, password)


def run() -> None:
    with session_scope() as session:
        seed_demo(session)
    log.info("demo data loaded")


def _local_domain(hostname: str, organization_id: int) -> Domain:
    """A demo seller's `.localhost` portal domain: it only reaches this machine, so it needs no DNS proof."""
    now = utcnow()
    return Domain(
        hostname=hostname,
        organization_id=organization_id,
        token=new_token(18),
        status=DomainStatus.SERVING,
        verified_at=now,
        checked_at=now,
    )
