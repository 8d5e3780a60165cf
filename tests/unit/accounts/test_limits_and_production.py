"""Guessing a password is slow everywhere a password is asked for, one account is one bucket whatever name is
typed, per-IP limits see people behind a proxy, and production never sells through the test-mode checkout."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from services.accounts import login as login_flow
from services.accounts import service, two_factor
from services.billing import local
from services.billing.provider import PaymentsNotConfigured, get_gateway
from services.config import InsecureSettingsError, get_settings
from services.errors import RateLimited, ValidationFailed
from services.models.base import utcnow
from tests.support.accounts import GOOD_PASSWORD, sign_up
from tests.support.env import SettingsEnv


@pytest.fixture()
def alice(db: Session, settings_env: SettingsEnv) -> int:
    settings_env.setenv("LOGIN_RATE_PER_ACCOUNT", "3/minute")
    settings_env.setenv("LOGIN_RATE_PER_IP", "100/minute")
    result = sign_up(db)
    from services.models import User

    user = db.get(User, result.user_id)
    user.email_verified_at = utcnow()  # type: ignore[union-attr]
    db.add(user)
    db.commit()
    return result.user_id


def test_the_username_and_the_email_count_as_one_account(db: Session, alice: int) -> None:
    for identifier in ("alice", "ALICE@example.com", "alice"):
        with pytest.raises(ValidationFailed):
            login_flow.login(db, identifier=identifier, password="wrong password!", ip=f"10.0.0.{len(identifier)}")
    with pytest.raises(RateLimited):
        login_flow.login(db, identifier="alice@example.com", password=GOOD_PASSWORD, ip="10.1.1.1")


@pytest.mark.parametrize("guess", ["change password", "turn off two-factor"])
def test_current_password_checks_share_the_sign_in_limit(db: Session, alice: int, guess: str) -> None:
    def attempt(password: str) -> None:
        if guess == "change password":
            service.change_password(db, alice, password, "a whole new passphrase", None, ip="10.2.2.2")
        else:
            two_factor.disable(db, alice, password, ip="10.2.2.2")

    for _ in range(3):
        with pytest.raises(ValidationFailed):
            attempt("wrong password!")
        db.rollback()
    with pytest.raises(RateLimited):  # the fourth guess is not even checked, right or wrong
        attempt(GOOD_PASSWORD)
    with pytest.raises(RateLimited):  # ... and sign-in shares the bucket
        login_flow.login(db, identifier="alice", password=GOOD_PASSWORD, ip="10.3.3.3")


@pytest.mark.parametrize(
    "hops,forwarded,expected",
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy configured: the header is the client's own claim
        (1, "203.0.113.9", "203.0.113.9"),  # nginx in front appended the real client
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged left part is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "203.0.113.9"),  # load balancer + nginx
        (2, "203.0.113.9", "10.0.0.1"),  # fewer hops than configured: not trusted
    ],
)
def test_the_client_address_behind_trusted_proxies_is_what_per_ip_limits_count(
    settings_env: SettingsEnv, monkeypatch: pytest.MonkeyPatch, hops: int, forwarded: str, expected: str
) -> None:
    """TRUSTED_PROXY_HOPS reaches Reflex through rxconfig, and Reflex's socket then reports the real client
    (the address every sign-in, sign-up and reset handler passes to the limits)."""
    import importlib

    import reflex.app
    from reflex.app import EventNamespace

    import rxconfig

    settings_env.setenv("TRUSTED_PROXY_HOPS", str(hops))
    config = importlib.reload(rxconfig).config
    assert config.trusted_proxy_hops == hops
    monkeypatch.setattr(reflex.app, "get_config", lambda: config)
    environ = {"asgi.scope": {"client": ("10.0.0.1", 50000), "headers": [(b"x-forwarded-for", forwarded.encode())]}}
    router_data = EventNamespace._build_static_router_data(None, "sid", environ)  # type: ignore[arg-type]
    assert router_data["ip"] == expected


def test_production_without_stripe_keys_refuses_to_start_and_to_sell(settings_env: SettingsEnv) -> None:
    settings_env.setenv("ENVIRONMENT", "production")
    settings_env.setenv("SECRET_KEY", "x" * 48)
    settings_env.setenv("ALLOW_SQLITE_IN_PRODUCTION", "1")  # the unit tests' database; its own refusal: test_settings
    with pytest.raises(InsecureSettingsError, match="STRIPE_SECRET_KEY"):
        get_settings().check_startup()
    with pytest.raises(PaymentsNotConfigured):
        get_gateway()
    with pytest.raises(ValidationFailed, match="switched off"):
        local.pay("cs_test_local_anything")
    assert local.checkout_summary("cs_test_local_anything") is None

    settings_env.setenv("ALLOW_TEST_CHECKOUT", "1")  # a demo deployment, explicitly
    get_settings().check_startup()
    assert get_gateway().test_mode is True


def test_outside_the_tests_passwords_are_hashed_with_argon2s_full_cost() -> None:
    """The test run uses argon2's cheapest parameters for speed; every other environment the library's defaults."""
    import os
    import subprocess
    import sys

    from tests.support.env import PROJECT_ROOT

    code = "from services.accounts.passwords import hash_password; print(hash_password('a long passphrase'))"
    for environment in ("development", "production"):
        env = {**os.environ, "ENVIRONMENT": environment, "SECRET_KEY": "k" * 48, "ALLOW_TEST_CHECKOUT": "1"}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout
        assert out.startswith("$argon2id$") and "m=65536,t=3" in out
