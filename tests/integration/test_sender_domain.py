"""A seller's e-mail comes From its own address only once a real DNS server shows the record it was given."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import service
from services.admin import branding
from services.branding.brand import brand_for
from services.errors import ValidationFailed
from services.models import Organization
from tests.support.dns import dns_server
from tests.support.env import SettingsEnv
from tests.support.mailbox import outbox_messages
from tests.support.tenants import actor


def _reseller(db: Session) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()


def test_the_sender_address_is_used_only_after_the_dns_proof(
    db: Session, tree: dict, outbox: Path, settings_env: SettingsEnv
) -> None:
    admin, reseller = actor(db, tree, "a-admin"), _reseller(db)
    branding.set_sender(db, admin, reseller.id, "Hello@Alpha.Example")  # type: ignore[arg-type]
    db.commit()
    status = branding.sender_status(db, admin, reseller.id)  # type: ignore[arg-type]
    assert status["record_name"] == "_portal-challenge.alpha.example" and status["verified"] == ""
    assert brand_for(db, reseller.id).sender_address == ""  # not before the proof

    with dns_server({status["record_name"]: "portal-verify=someone-elses-token"}) as resolver:
        settings_env.setenv("DNS_RESOLVER", resolver)
        with pytest.raises(ValidationFailed, match="does not hold"):
            branding.verify_sender(db, admin, reseller.id)  # type: ignore[arg-type]
        db.rollback()
    with dns_server({"unrelated.example": "x"}) as resolver:
        settings_env.setenv("DNS_RESOLVER", resolver)
        with pytest.raises(ValidationFailed, match=r"no TXT record|has no TXT"):
            branding.verify_sender(db, admin, reseller.id)  # type: ignore[arg-type]
        db.rollback()
    with dns_server({status["record_name"]: status["record_value"]}) as resolver:
        settings_env.setenv("DNS_RESOLVER", resolver)
        branding.verify_sender(db, admin, reseller.id)  # type: ignore[arg-type]
        db.commit()
    assert brand_for(db, tree["sub_a"].id).sender_address == "Hello@alpha.example"  # inherited down the tree

    service.signup(
        db, email="buyer@example.com", username="buyer", password="long enough password", parent_org_id=tree["sub_a"].id
    )
    db.commit()
    [mail] = [m for m in outbox_messages(outbox) if m["To"] == "buyer@example.com"]
    assert mail["From"].endswith("<Hello@alpha.example>")

    branding.set_sender(db, admin, reseller.id, "news@other.example")  # type: ignore[arg-type]
    db.commit()
    assert brand_for(db, reseller.id).sender_address == ""  # a new address needs a new proof


@pytest.mark.parametrize("address", ["x@localhost", "x@cust-a.localhost", "x@portal.test", "not-an-address"])
def test_the_platforms_own_domains_are_not_a_sellers_sender(db: Session, tree: dict, address: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        branding.set_sender(db, actor(db, tree, "a-admin"), _reseller(db).id, address)  # type: ignore[arg-type]
    assert "sender_email" in refused.value.errors


def test_dns_that_cannot_be_reached_says_so_and_changes_nothing(
    db: Session, tree: dict, settings_env: SettingsEnv
) -> None:
    from tests.support.servers import free_port

    admin, reseller = actor(db, tree, "a-admin"), _reseller(db)
    branding.set_sender(db, admin, reseller.id, "hello@alpha.example")  # type: ignore[arg-type]
    db.commit()
    settings_env.setenv("DNS_RESOLVER", f"127.0.0.1:{free_port()}")  # nobody listens
    with pytest.raises(ValidationFailed, match="could not be asked"):
        branding.verify_sender(db, admin, reseller.id)  # type: ignore[arg-type]
