"""A seller's shop creates a customer through the API: the customer organization in the seller's tree, its
subscription and instance (a free plan provisions at once, a paid plan answers with a checkout link), and an
invitation to the customer's e-mail to become its owner. All or nothing, like a sign-up."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.accounts import usernames
from services.accounts.invitations import invite
from services.accounts.service import normalise_email
from services.api.access import check
from services.api.resources import instance_dict, organization_dict
from services.api.tokens import ApiCaller
from services.billing.enrolment import enrol
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import Instance, Organization, OrgKind, Role
from services.models.base import key
from services.tenancy.licences import ensure_room_for_customer
from services.webhooks.outbox import emit


def create_customer(
    session: Session, caller: ApiCaller, *, email: str, username: str, plan: str, ip: str = ""
) -> dict[str, Any]:
    seller = caller.organization_id
    check(session, caller, "customers:write", target=("organization", seller), organization_id=seller)
    if caller.actor is None:
        raise ValidationFailed.single("", N_("Only a seller's staff create customers."))
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    username = usernames.normalise(username)
    if problem := usernames.username_problem(session, username):
        errors["username"] = problem
    if errors:
        raise ValidationFailed(errors)
    ensure_room_for_customer(session, seller)
    org = Organization(name=username, slug=username, kind=OrgKind.CUSTOMER, parent_id=seller)
    session.add(org)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ValidationFailed.single("username", N_("This username was just taken. Please choose another.")) from exc
    enrolment = enrol(session, organization_id=key(org), email=email, plan_slug=plan)
    seller_staff = replace(caller.actor, org_ids=caller.actor.org_ids | {key(org)})  # the new customer is theirs
    invitation = invite(
        session, seller_staff, email=email, role=Role.OWNER, organization_id=key(org), ip=ip, first_owner=True
    )
    instance = session.get(Instance, enrolment.instance_id)
    assert instance is not None
    emit(
        session,
        key(org),
        "customer.created",
        {"organization": organization_dict(org), "plan": plan, "instance_id": instance.id},
    )
    return {
        "organization": organization_dict(org),
        "instance": instance_dict(instance),
        "checkout_url": enrolment.checkout_url,
        "invitation_id": invitation.id,
    }
