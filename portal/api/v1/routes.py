"""The resources of /api/v1: thin routes over services/api (every read and write scoped there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.api.v1 import schemas
from portal.api.v1.deps import Caller, client_ip, idempotent
from portal.api.v1.problems import PROBLEM_RESPONSES
from services.api import resources
from services.api.access import require_scope
from services.api.actions import control
from services.api.customers import create_customer
from services.api.resources import MAX_LIMIT, Page
from services.db import session_scope
from services.privacy.data_export import export_zip

router = APIRouter(responses=PROBLEM_RESPONSES)

Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Id = Annotated[int, Path(ge=1, le=2**62)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def _in_session(work: Any) -> Any:
    with session_scope() as session:
        return work(session)


def _page(page: Page) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/me", response_model=schemas.Me, tags=["account"])
def me(who: Caller) -> dict[str, Any]:
    """The token: whom it acts for, in which organization, with which scopes."""
    acting = "staff" if who.actor is not None else "customer"
    role = who.actor.role if who.actor else (who.customer.role if who.customer else "")
    return {
        "token_id": who.token_id,
        "organization_id": who.organization_id,
        "user_id": who.user_id,
        "acting_as": acting,
        "role": role,
        "scopes": sorted(who.scopes),
    }


@router.get(
    "/me/export",
    tags=["account"],
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "A ZIP of JSON and CSV files"}},
)
def my_data(who: Caller) -> Response:
    """Everything the portal keeps about the token's own person (GDPR), as the account page's export: the
    account, memberships, sessions, audit events, and the subscriptions, invoices and usage billing may see.
    Needs the scope `account:export`."""
    require_scope(who, "account:export")
    data = _in_session(lambda session: export_zip(session, who.user_id))
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="my-data.zip"', "Cache-Control": "no-store"},
    )


@router.get("/organizations", response_model=schemas.OrganizationPage, tags=["organizations"])
def organizations(
    who: Caller,
    cursor: Cursor = None,
    limit: Limit = 50,
    kind: Literal["platform", "reseller", "sub_reseller", "customer"] | None = None,
) -> dict[str, Any]:
    """Organizations in the caller's subtree (a customer: their own)."""
    return _page(_in_session(lambda s: resources.organizations(s, who, cursor=cursor, limit=limit, kind=kind)))


@router.get("/organizations/{organization_id}", response_model=schemas.Organization, tags=["organizations"])
def organization(who: Caller, organization_id: Id) -> dict[str, Any]:
    return _in_session(lambda s: resources.organization_of(s, who, organization_id))


@router.get("/customers", response_model=schemas.OrganizationPage, tags=["customers"])
def customers(who: Caller, cursor: Cursor = None, limit: Limit = 50) -> dict[str, Any]:
    """Customer organizations in the caller's subtree."""
    return _page(_in_session(lambda s: resources.customers(s, who, cursor=cursor, limit=limit)))


@router.post(
    "/customers",
    response_model=schemas.CustomerCreated,
    status_code=201,
    tags=["customers"],
    responses={201: {"description": "Created; a paid plan's `checkout_url` is where the customer pays"}},
)
async def create(
    request: Request, who: Caller, body: schemas.CustomerIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A new customer under the caller's organization: its instance (a free plan provisions at once, a paid plan
    answers with a checkout link) and an invitation to `email` to own it."""
    ip = client_ip(request)

    def run() -> tuple[int, Any]:
        return 201, _in_session(
            lambda s: create_customer(s, who, email=body.email, username=body.username, plan=body.plan, ip=ip)
        )

    return await idempotent(request, who, idempotency_key, run)


@router.get("/instances", response_model=schemas.InstancePage, tags=["instances"])
def instances(
    who: Caller,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: Annotated[str | None, Query(max_length=20)] = None,
    organization_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    return _page(
        _in_session(
            lambda s: resources.instances(
                s, who, cursor=cursor, limit=limit, status=status, organization_id=organization_id
            )
        )
    )


@router.get("/instances/{instance_id}", response_model=schemas.Instance, tags=["instances"])
def instance(who: Caller, instance_id: Id) -> dict[str, Any]:
    return _in_session(lambda s: resources.instance(s, who, instance_id))


@router.post(
    "/instances/{instance_id}/{action}",
    response_model=schemas.ActionAccepted,
    status_code=202,
    tags=["instances"],
    responses={202: {"description": "Queued; follow the instance's status"}},
)
async def act(
    request: Request,
    who: Caller,
    instance_id: Id,
    action: Literal["start", "stop", "restart"],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    ip = client_ip(request)

    def run() -> tuple[int, Any]:
        return 202, _in_session(lambda s: control(s, who, instance_id, action, ip))

    return await idempotent(request, who, idempotency_key, run)


@router.get("/instances/{instance_id}/logs", response_model=schemas.Logs, tags=["instances"])
async def logs(who: Caller, instance_id: Id, lines: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    text = await run_in_threadpool(_in_session, lambda s: resources.logs(s, who, instance_id, lines))
    return {"instance_id": instance_id, "logs": text}


@router.get("/instances/{instance_id}/usage", response_model=schemas.UsageRecordPage, tags=["usage"])
def usage_records(
    who: Caller,
    instance_id: Id,
    cursor: Cursor = None,
    limit: Limit = 50,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    return _page(
        _in_session(
            lambda s: resources.usage_records(
                s, who, instance_id, cursor=cursor, limit=limit, since=_aware(since), until=_aware(until)
            )
        )
    )


@router.get("/instances/{instance_id}/usage/daily", response_model=list[schemas.UsageDay], tags=["usage"])
def usage_daily(who: Caller, instance_id: Id, days: Annotated[int, Query(ge=1, le=366)] = 30) -> Any:
    return _in_session(lambda s: resources.usage_daily(s, who, instance_id, days))


@router.get("/instances/{instance_id}/usage/totals", response_model=list[schemas.UsageTotal], tags=["usage"])
def usage_totals(who: Caller, instance_id: Id, since: datetime | None = None) -> Any:
    start = _aware(since) or datetime.now(UTC) - timedelta(days=30)
    return _in_session(lambda s: resources.usage_totals(s, who, instance_id, start))


@router.get(
    "/instances/{instance_id}/usage.csv",
    response_class=PlainTextResponse,
    tags=["usage"],
    responses={200: {"content": {"text/csv": {}}, "description": "The records as CSV"}},
)
def usage_csv(who: Caller, instance_id: Id, since: datetime | None = None) -> PlainTextResponse:
    start = _aware(since) or datetime.now(UTC) - timedelta(days=30)
    text = _in_session(lambda s: resources.usage_csv(s, who, instance_id, start))
    return PlainTextResponse(text, media_type="text/csv")


@router.get("/instances/{instance_id}/budget", response_model=schemas.Budget, tags=["usage"])
def budget(who: Caller, instance_id: Id) -> Any:
    return _in_session(lambda s: resources.budget(s, who, instance_id))


@router.get("/plans", response_model=list[schemas.Plan], tags=["billing"])
def plans(who: Caller) -> Any:
    return _in_session(lambda s: resources.plans(s, who))


@router.get("/subscriptions", response_model=schemas.SubscriptionPage, tags=["billing"])
def subscriptions(who: Caller, cursor: Cursor = None, limit: Limit = 50) -> dict[str, Any]:
    return _page(_in_session(lambda s: resources.subscriptions(s, who, cursor=cursor, limit=limit)))


@router.get("/audit-events", response_model=schemas.AuditEventPage, tags=["audit"])
def audit_events(
    who: Caller, cursor: Cursor = None, limit: Limit = 50, action: Annotated[str | None, Query(max_length=80)] = None
) -> dict[str, Any]:
    return _page(_in_session(lambda s: resources.audit_events(s, who, cursor=cursor, limit=limit, action=action)))


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
