"""The branding editor's rules: who may change a brand, what each field accepts, what a logo may be."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.admin import branding as editor
from services.branding import assets
from services.branding.brand import brand_for
from services.errors import ValidationFailed
from services.models import AuditEvent, Branding, Licence, Organization, User
from services.tenancy.licences import FEATURES
from services.tenancy.scope import Forbidden
from tests.support.tenants import actor as _actor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def test_a_reseller_admin_brands_its_own_organization_and_the_brand_shows_at_once(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-a")
    db.add(Licence(organization_id=reseller.id, tier="pro", features=list(FEATURES)))
    editor.update(
        db,
        _actor(db, tree, "a-admin"),
        reseller.id,
        {  # type: ignore[arg-type]
            "platform_name": "  Alpha Cloud ",
            "accent_color": "jade",
            "radius": "full",
            "support_email": "Help@Alpha.Example",
            "custom_css": "h1 { letter-spacing: -0.02em }",
            "hide_platform_branding": True,
        },
    )
    db.commit()
    brand = brand_for(db, _org(db, "sub-a").id)  # inherited by the sub-reseller below it
    assert (brand.platform_name, brand.accent_color, brand.radius) == ("Alpha Cloud", "jade", "full")
    assert brand.support_email == "Help@alpha.example"  # the domain part is normalised
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "branding.update")).one()
    assert event.details["custom_css_chars"] == len("h1 { letter-spacing: -0.02em }")
    assert "custom_css" not in event.details


def test_bad_fields_are_all_named_and_nothing_is_stored(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-a")
    with pytest.raises(ValidationFailed) as refused:
        editor.update(
            db,
            _actor(db, tree, "a-admin"),
            reseller.id,
            {  # type: ignore[arg-type]
                "accent_color": "chartreuse",
                "radius": "round",
                "support_email": "not an address",
                "custom_css": "</style><script>alert(1)</script>",
                "platform_name": "x" * 121,
            },
        )
    db.rollback()
    assert set(refused.value.errors) == {"accent_color", "radius", "support_email", "custom_css", "platform_name"}
    assert db.exec(select(Branding).where(Branding.organization_id == reseller.id)).first() is None


def test_support_staff_and_other_resellers_cannot_change_a_brand(db: Session, tree: dict) -> None:
    reseller = _org(db, "reseller-a")
    for who in ("a-support", "b-admin"):
        with pytest.raises(Forbidden):
            editor.update(db, _actor(db, tree, who), reseller.id, {"platform_name": "Hijacked"})  # type: ignore[arg-type]
        db.rollback()
    with pytest.raises(Forbidden):  # a customer organization has no brand of its own to edit
        editor.update(db, _actor(db, tree, "a-admin"), _org(db, "cust-a").id, {"platform_name": "Mine"})  # type: ignore[arg-type]
    db.rollback()
    assert db.exec(select(Branding)).all() == []
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()) == 3


def test_logos_are_checked_by_their_bytes_and_served_only_by_their_own_name(db: Session, tree: dict) -> None:
    reseller, admin = _org(db, "reseller-a"), _actor(db, tree, "a-admin")
    for data, message in (
        (b"<svg onload='alert(1)'/>", "SVG is not accepted"),
        (b"", "empty"),
        (PNG + b"\x00" * editor.MAX_LOGO_BYTES, "at most 512 KB"),
        (b"GIF8not really", "must be a PNG"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            editor.store_logo(db, admin, reseller.id, data)  # type: ignore[arg-type]
    url = editor.store_logo(db, admin, reseller.id, PNG)  # type: ignore[arg-type]
    db.commit()
    name = url.rsplit("/", 1)[1]
    assert url.startswith(editor.ASSET_ROUTE) and assets.asset_path(name) is not None
    assert brand_for(db, reseller.id).logo_url == url  # type: ignore[arg-type]
    assert assets.asset_path("../secret_key") is None and assets.asset_path("1-zz.png") is None


def test_email_overrides_must_render_and_then_replace_only_their_parts(db: Session, tree: dict, outbox) -> None:  # type: ignore[no-untyped-def]
    from services.accounts import service
    from tests.support.mailbox import outbox_messages, text_of

    reseller, admin = _org(db, "reseller-a"), _actor(db, tree, "a-admin")
    with pytest.raises(ValidationFailed) as refused:
        editor.save_email_template(
            db,
            admin,
            reseller.id,
            "password_changed",
            {  # type: ignore[arg-type]
                "subject": "Hi {{ usernme }}",
                "text": "{% for %}",
            },
        )
    assert set(refused.value.errors) == {"subject", "text"}
    with pytest.raises(ValidationFailed):
        editor.save_email_template(db, admin, reseller.id, "no_such_mail", {"subject": "x"})  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        editor.save_email_template(db, _actor(db, tree, "b-admin"), reseller.id, "welcome", {"subject": "x"})  # type: ignore[arg-type]
    db.rollback()
    editor.update(db, admin, reseller.id, {"platform_name": "Alpha Cloud"})  # type: ignore[arg-type]
    editor.save_email_template(
        db,
        admin,
        reseller.id,
        "password_changed",  # type: ignore[arg-type]
        {"subject": "{{ brand_name }} security notice for {{ username }}"},
    )
    db.commit()
    customer = db.exec(select(User).where(User.username == "cust-a")).one()
    service.change_password(
        db,
        customer.id,
        "irrelevant-pass",
        "another long passphrase",  # type: ignore[arg-type]
        keep_session_hash=None,
    )
    db.commit()
    mail = [m for m in outbox_messages(outbox) if m["To"] == "cust-a@example.com"][-1]
    assert mail["Subject"] == "Alpha Cloud security notice for cust-a"
    assert "cust-a" in text_of(mail)  # the built-in text part is still sent
