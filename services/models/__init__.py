"""Every table, imported in one place so SQLModel.metadata (alembic, tests) always sees all of them."""

from sqlmodel import SQLModel

from services.models.audit import AuditEvent
from services.models.backup import Backup
from services.models.billing import (
    Budget,
    Invoice,
    LocalStripeObject,
    Plan,
    PlanRollout,
    StripeEvent,
    Subscription,
)
from services.models.history import InstanceStatusDay, UptimeDay
from services.models.incident import Incident
from services.models.instance import AppTemplate, Instance, ProvisioningAction, ProvisioningStep
from services.models.organization import (
    Branding,
    ConnectedAccount,
    Domain,
    DomainStatus,
    Licence,
    Membership,
    Organization,
    OrgKind,
    Role,
)
from services.models.request_budget import RequestBudget
from services.models.server import Server
from services.models.usage import UsageDaily, UsageRecord
from services.models.user import ApiToken, AuthSession, IdempotencyRecord, Invitation, User, UserToken
from services.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AppTemplate",
    "AuditEvent",
    "AuthSession",
    "Backup",
    "Branding",
    "Budget",
    "ConnectedAccount",
    "Domain",
    "DomainStatus",
    "IdempotencyRecord",
    "Incident",
    "Instance",
    "InstanceStatusDay",
    "Invitation",
    "Invoice",
    "Licence",
    "LocalStripeObject",
    "Membership",
    "OrgKind",
    "Organization",
    "Plan",
    "PlanRollout",
    "ProvisioningAction",
    "ProvisioningStep",
    "RequestBudget",
    "Role",
    "Server",
    "StripeEvent",
    "Subscription",
    "UptimeDay",
    "UsageDaily",
    "UsageRecord",
    "User",
    "UserToken",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "metadata",
]
