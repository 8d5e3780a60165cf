"""Schemathesis against the API's own OpenAPI document, as four callers (a customer, a reseller's admin and
support, the platform): whatever it sends, no 5xx, every status code documented, every answer's content type,
headers and body as the document says."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from portal.api import build_api
from services.api.tokens import CUSTOMER_SCOPES, ROLE_SCOPES, SCOPES
from tests.support.api import bearer, licensed, offered_plans, token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CALLERS = {
    "customer": ("cust-a", "cust-a", tuple(CUSTOMER_SCOPES)),
    "reseller admin": ("a-admin", "reseller-a", tuple(SCOPES)),
    "reseller support": ("a-support", "reseller-a", tuple(ROLE_SCOPES["support"])),
    "platform": ("operator", "platform", tuple(SCOPES)),
}
EXAMPLES = 25


@pytest.mark.parametrize("who", sorted(CALLERS))
def test_the_api_keeps_to_its_own_document_whatever_it_is_sent(tree: dict, db: Session, who: str) -> None:
    licensed(db, "reseller-a", "reseller-b")
    offered_plans(db, "reseller-a")
    username, org, scopes = CALLERS[who]
    headers = bearer(token_for(db, username, org, scopes))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", build_api())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
