"""White-label: brands inherited down the tree, resolved from the host, safe custom CSS, branded e-mails,
licence limits at signup."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from services.accounts import service
from services.branding.brand import brand_for, brand_for_host, organization_for_host
from services.branding.css import sanitize_css
from services.errors import ValidationFailed
from services.models import Branding, Domain, Licence, Organization, OrgKind, User
from services.models.base import utcnow
from tests.support.accounts import GOOD_PASSWORD
from tests.support.factories import platform
from tests.support.mailbox import outbox_messages, text_of

ASSET = "/api/brand-assets/7-0123456789abcdef.png"  # seller 7's own uploaded image


@pytest.mark.parametrize(
    "css",
    [
        "body { color: red } </style><script>alert(1)</script>",
        "@import url(https://evil.example/x.css);",
        "@IMPORT 'x.css';",
        "@\\69mport 'x.css';",  # an escape hiding "import"
        "@media screen { @import 'x.css'; }",
        "@charset 'utf-8'; a { color: red }",
        "@namespace svg url(http://www.w3.org/2000/svg);",
        "a { background: url(javascript:alert(1)) }",
        "a { background: url( 'JaVaScRiPt:alert(1)') }",
        "a { background: url(java\\73 cript:alert(1)) }",
        "div { width: expression(alert(1)) }",
        "a { behavior: url(x.htc) }",
        "a { -moz-binding: url(x.xml#x) }",
        "a { background: url(data:text/html,<b>x</b>) }",
        "a { background: url(data:image/svg+xml;base64,PHN2Zz4=) }",
        "a { background: url(http://tracker.example/pixel) }",
        "a { background: url(https://cdn.example/bg.png) }",
        "a { background: url(//tracker.example/pixel) }",
        "a { background: url(\\/\\/tracker.example/pixel) }",  # backslash-escaped slashes
        "a { background: url('\\\\tracker.example\\pixel') }",
        "a { background: image-set('https://evil.example/a.png' 1x) }",
        "a { background: -webkit-image-set(url(https://evil.example/a.png) 1x) }",
        "@font-face { font-family: x; src: url(https://evil.example/f.woff2) }",
        "a { content: 'x'; background: url(/api/brand-assets/8-0123456789abcdef.png) }",  # another seller's image
        "a { background: url(/api/brand-assets/7-0123456789abcdef.png/../../secret) }",
        "a { color: 'unterminated }",
        "a { x: '/*'; } @\\69mport 'x.css'; /* '*/",  # the review's evasion: a comment opener inside a string
    ],
)
def test_custom_css_that_could_escape_load_or_run_anything_is_refused(css: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        sanitize_css(css, organization_id=7)
    assert "custom_css" in refused.value.errors


@pytest.mark.parametrize(
    "css",
    [
        ".hero { background: url(ASSET) center / cover; }\n/* brand */ h1 { font-weight: 800 }",
        "a { background: url('ASSET') }",
        "a { background: image-set('ASSET' 1x) }",
        "a { background: url(data:image/png;base64,iVBORw0KGgo=) }",
        "@font-face { font-family: Brand; src: url(data:font/woff2;base64,d09GMgAB) format('woff2') }",
        "@media (max-width: 600px) { .hero { padding: 0 } } "
        "@keyframes pulse { from { opacity: 1 } to { opacity: .5 } }",
        ":root { --accent: #e5484d; } a { color: var(--accent); content: 'javascript: is only text here'; }",
    ],
)
def test_plain_style_rules_and_own_images_pass_as_what_was_checked(css: str) -> None:
    css = css.replace("ASSET", ASSET)
    stored = sanitize_css(css, organization_id=7)
    assert stored and "/*" not in stored
    assert sanitize_css(stored, organization_id=7) == stored  # what is stored is exactly what passes again


def test_a_block_left_open_is_closed_when_stored_and_empty_css_is_fine() -> None:
    assert sanitize_css("a { color: red", organization_id=7) == "a { color: red}"
    assert sanitize_css(None) == "" and sanitize_css("   ") == ""


def test_the_check_is_bounded_in_size_and_nesting() -> None:
    with pytest.raises(ValidationFailed, match="at most"):
        sanitize_css("a{}" * 100_000)
    with pytest.raises(ValidationFailed, match="deeper"):
        sanitize_css("a{b:" + "(" * 5000 + ")" * 5000 + "}")


def _tree(db: Session) -> dict[str, Organization]:
    top = platform(db)
    reseller = Organization(name="Acme Cloud", slug="acme", kind=OrgKind.RESELLER, parent_id=top.id)
    db.add(reseller)
    db.flush()
    sub = Organization(name="Acme East", slug="acme-east", kind=OrgKind.SUB_RESELLER, parent_id=reseller.id)
    other = Organization(name="Beta", slug="beta", kind=OrgKind.RESELLER, parent_id=top.id)
    db.add_all([sub, other])
    db.flush()
    db.add_all(
        [
            Branding(
                organization_id=top.id, platform_name="Portal", accent_color="indigo", support_email="help@portal"
            ),
            Branding(
                organization_id=reseller.id,
                platform_name="Acme Cloud",
                accent_color="crimson",
                radius="large",
                email_templates={
                    "password_changed": {"subject": "{{ brand_name }}: password changed for {{ username }}"}
                },
            ),
            Branding(organization_id=sub.id, platform_name="Acme East"),
            Branding(
                organization_id=other.id,
                platform_name="Beta",
                hide_platform_branding=True,
                email_templates={"password_changed": {"subject": "{{ broken"}},
            ),
            Domain(hostname="portal.acme.example", organization_id=reseller.id, verified_at=utcnow()),
            Domain(hostname="portal.beta.example", organization_id=other.id, verified_at=utcnow()),
            Licence(organization_id=other.id, tier="pro", features=["hide_platform_branding"]),
        ]
    )
    db.commit()
    return {"platform": top, "acme": reseller, "east": sub, "beta": other}


def test_brand_is_inherited_with_the_nearest_override_winning_and_resolved_from_the_host(db: Session) -> None:
    tree = _tree(db)
    east = brand_for(db, tree["east"].id)
    assert (east.platform_name, east.accent_color, east.radius, east.support_email) == (
        "Acme East",
        "crimson",
        "large",
        "help@portal",
    )
    assert east.powered_by == "Portal"  # a reseller's brand says where it comes from, unless it hides it
    assert brand_for(db, tree["beta"].id).powered_by == ""
    assert brand_for_host(db, "PORTAL.ACME.EXAMPLE.").platform_name == "Acme Cloud"
    assert brand_for_host(db, "portal.beta.example:8443").platform_name == "Beta"
    assert organization_for_host(db, "unknown.example") is None
    assert brand_for_host(db, "unknown.example").platform_name == "Portal"  # the platform's own brand
    assert brand_for(db, tree["east"].id).public_url == "http://portal.acme.example"  # nearest domain upwards


def _customer_of(db: Session, seller: Organization, username: str) -> User:
    result = service.signup(
        db, email=f"{username}@example.com", username=username, password=GOOD_PASSWORD, parent_org_id=seller.id
    )
    db.commit()
    return db.get(User, result.user_id)  # type: ignore[return-value]


def test_every_email_carries_the_brand_of_the_customers_reseller(db: Session, outbox: Path) -> None:
    tree = _tree(db)
    _customer_of(db, tree["acme"], "acmecustomer")
    verify = [m for m in outbox_messages(outbox) if m["To"] == "acmecustomer@example.com"][-1]
    assert "Acme Cloud" in text_of(verify) and "http://portal.acme.example/verify?token=" in text_of(verify)
    assert "Portal" not in verify["Subject"]

    user = db.exec(select(User).where(User.username == "acmecustomer")).one()
    service.change_password(db, user.id, GOOD_PASSWORD, GOOD_PASSWORD + " again", keep_session_hash=None)  # type: ignore[arg-type]
    db.commit()
    changed = [m for m in outbox_messages(outbox) if m["To"] == "acmecustomer@example.com"][-1]
    assert changed["Subject"] == "Acme Cloud: password changed for acmecustomer"  # the reseller's own template

    beta_user = _customer_of(db, tree["beta"], "betacustomer")
    service.change_password(db, beta_user.id, GOOD_PASSWORD, GOOD_PASSWORD + " again", keep_session_hash=None)  # type: ignore[arg-type]
    db.commit()
    fallback = [m for m in outbox_messages(outbox) if m["To"] == "betacustomer@example.com"][-1]
    assert "Beta" in text_of(fallback) and "{{" not in fallback["Subject"]  # a broken override: ours is sent


def test_a_reseller_at_its_licence_limit_cannot_sign_up_a_customer_and_nothing_is_created(
    db: Session, outbox: Path
) -> None:
    tree = _tree(db)
    db.add(Licence(organization_id=tree["beta"].id, tier="starter", max_customers=1))
    db.commit()
    _customer_of(db, tree["beta"], "firstcustomer")
    users_before = db.exec(select(func.count()).select_from(User)).one()
    with pytest.raises(ValidationFailed) as refused:
        _customer_of(db, tree["beta"], "secondcustomer")
    db.rollback()
    assert "Beta cannot take new customers" in refused.value.errors[""]
    assert db.exec(select(func.count()).select_from(User)).one() == users_before
    assert _customer_of(db, tree["acme"], "elsewhere")  # other resellers are not affected
