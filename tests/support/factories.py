"""Rows for tests, built through the same models the app uses."""

from __future__ import annotations

from sqlmodel import Session, select

from services.accounts.passwords import hash_password
from services.models import (
    AppTemplate,
    Instance,
    Membership,
    Organization,
    OrgKind,
    Plan,
    Role,
    Subscription,
    User,
)

ENV_TEMPLATE = """\
ADMIN_EMAIL={{ customer.email }}
ADMIN_PASSWORD={{ secrets.admin_password }}
CUSTOM_DOMAIN={{ domain }}
INSTANCE_MAX_CONCURRENT_PROJECTS={{ limits.max_concurrent_projects }}
INSTANCE_MAX_REQUESTS_PER_MINUTE={{ limits.max_requests_per_minute }}
PREDEFINED_ENDPOINTS={{ endpoints | tojson }}
"""


def platform(session: Session) -> Organization:
    existing = session.exec(select(Organization).where(Organization.slug == "platform")).first()
    if existing is not None:
        return existing
    org = Organization(name="Platform", slug="platform", kind=OrgKind.PLATFORM)
    session.add(org)
    session.flush()
    return org


def staff_member(session: Session, username: str, org: Organization, role: str) -> User:
    """A person with `role` in `org`, e-mail <username>@example.com."""
    user = User(email=f"{username}@example.com", username=username, password_hash=hash_password("irrelevant-pass"))
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organization_id=org.id, role=role))  # type: ignore[arg-type]
    session.flush()
    return user


def customer_instance(
    session: Session,
    subdomain: str,
    *,
    image: str = "portal-test/app:latest",
    limits: dict | None = None,
    parent: Organization | None = None,
    health_path: str = "/health",
) -> Instance:
    parent = parent or platform(session)
    org = Organization(name=subdomain, slug=subdomain, kind=OrgKind.CUSTOMER, parent_id=parent.id)
    session.add(org)
    session.flush()
    user = User(email=f"{subdomain}@example.com", username=subdomain, password_hash=hash_password("irrelevant-pass"))
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organization_id=org.id, role=Role.OWNER))  # type: ignore[arg-type]
    template = AppTemplate(
        name=f"app for {subdomain}",
        slug=f"app-{subdomain}",
        backend="docker",
        image=image,
        internal_port=8080,
        health_path=health_path,
        env_template=ENV_TEMPLATE,
        settings={"predefined_endpoints": [{"name": "default", "url": "https://llm.example.com"}]},
    )
    session.add(template)
    session.flush()
    plan = Plan(
        organization_id=parent.id,
        name="Plan",
        slug=f"plan-{subdomain}",
        price_cents=1000,  # type: ignore[arg-type]
        app_template_id=template.id,
        limits=limits or {"memory_mb": 64, "cpus": 0.5, "max_concurrent_projects": 2, "max_requests_per_minute": 60},
    )
    session.add(plan)
    session.flush()
    subscription = Subscription(organization_id=org.id, plan_id=plan.id, status="active")  # type: ignore[arg-type]
    session.add(subscription)
    session.flush()
    instance = Instance(
        organization_id=org.id,
        subscription_id=subscription.id,
        app_template_id=template.id,  # type: ignore[arg-type]
        subdomain=subdomain,
        backend="docker",
        status="pending",
    )
    session.add(instance)
    session.commit()
    return instance
