"""Custom domains proven against a real DNS server (Debian's dnsmasq on loopback, records changed at will):
each step's status and words, a record that disappears, the grace period, CAA, and two claims on one name."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from services.config import get_settings
from services.domains import checks, claims
from services.domains.ask import may_have_certificate
from services.models import Domain, DomainStatus, Instance, Plan, Subscription
from tests.conftest import SettingsEnv
from tests.support.dns import DnsZone, dns_zone
from tests.support.factories import customer_instance
from tests.support.mailbox import outbox_messages
from tests.support.tenants import customer

HOST = "app.example.org"
PROOF = f"_portal-challenge.{HOST}"


@pytest.fixture()
def zone(settings_env: SettingsEnv) -> Iterator[DnsZone]:
    with dns_zone("example.org", "hosting.test", "elsewhere.test") as served:
        for name, value in {
            "DNS_RESOLVER": served.address,
            "BASE_DOMAIN": "hosting.test",
            "PROXY_BACKEND": "none",
            "DOMAIN_CHECK_SECONDS": "1",
        }.items():
            settings_env.setenv(name, value)
        served.a["shop.hosting.test"] = "127.0.0.1"
        served.a["other.hosting.test"] = "127.0.0.1"
        served.apply()
        yield served


def _instance(db: Session, subdomain: str) -> Instance:
    instance = customer_instance(db, subdomain)
    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, "custom_domains": 2}  # type: ignore[union-attr]
    db.add(plan)
    db.commit()
    return instance


def _claim(db: Session, subdomain: str, host: str = HOST) -> Domain:
    instance = db.exec(select(Instance).where(Instance.subdomain == subdomain)).one()
    view = claims.add_instance_domain(db, customer(db, subdomain), instance.id, host)
    db.commit()
    domain = db.get(Domain, view.id)
    assert domain is not None
    return domain


def _look(db: Session, domain: Domain) -> Domain:
    checks.check(domain.id)  # type: ignore[arg-type]
    db.expire_all()
    again = db.get(Domain, domain.id)
    assert again is not None
    return again


def test_each_step_from_no_records_to_verified_says_what_to_do(db: Session, zone: DnsZone) -> None:
    _instance(db, "shop")
    domain = _claim(db, "shop")
    seen = _look(db, domain)
    assert seen.status == DomainStatus.WAITING_DNS and f"no TXT record at {PROOF}" in seen.message
    assert seen.next_check_at is not None and seen.verified_at is None

    zone.txt[PROOF] = "portal-verify=somebody-elses-token"
    zone.apply()
    seen = _look(db, domain)
    assert seen.status == DomainStatus.WRONG_RECORDS and "does not hold" in seen.message

    zone.txt[PROOF] = f"portal-verify={domain.token}"
    zone.apply()
    seen = _look(db, domain)
    assert seen.status == DomainStatus.WAITING_DNS and "has no CNAME or A record yet" in seen.message
    assert "shop.hosting.test" in seen.message

    zone.a[HOST] = "192.0.2.7"
    zone.apply()
    seen = _look(db, domain)
    assert seen.status == DomainStatus.WRONG_RECORDS
    assert "points at 192.0.2.7, not at shop.hosting.test (127.0.0.1)" in seen.message
    assert not may_have_certificate(db, HOST)

    del zone.a[HOST]
    zone.cname[HOST] = "shop.hosting.test"
    zone.apply()
    seen = _look(db, domain)
    assert seen.verified_at is not None and seen.status == DomainStatus.VERIFIED
    assert "no edge stands in front" in seen.message  # PROXY_BACKEND=none here: nothing can serve it yet
    assert may_have_certificate(db, HOST)


def test_a_record_that_disappears_warns_keeps_serving_through_the_grace_period_then_stops(
    db: Session, zone: DnsZone, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("DOMAIN_GRACE_HOURS", str(2 / 3600))  # two seconds
    _instance(db, "shop")
    domain = _claim(db, "shop")
    zone.txt[PROOF], zone.cname[HOST] = f"portal-verify={domain.token}", "shop.hosting.test"
    zone.apply()
    assert _look(db, domain).verified_at is not None

    del zone.txt[PROOF]
    zone.apply()
    seen = _look(db, domain)
    assert seen.status == DomainStatus.FAILING and "keeps serving until" in seen.message
    assert seen.verified_at is not None and may_have_certificate(db, HOST)
    outbox = get_settings().outbox_dir
    assert outbox is not None
    told = [m for m in outbox_messages(outbox) if HOST in str(m["Subject"])]
    assert [str(m["To"]) for m in told] == ["shop@example.com"]

    time.sleep(2.2)
    seen = _look(db, domain)
    assert seen.status == DomainStatus.FAILED and seen.verified_at is None
    assert "Stopped serving" in seen.message and "no TXT record" in seen.message
    assert not may_have_certificate(db, HOST)
    assert len([m for m in outbox_messages(outbox) if HOST in str(m["Subject"])]) == 2  # once each, no more

    zone.txt[PROOF] = f"portal-verify={domain.token}"  # put back: proven again, served again
    zone.apply()
    seen = _look(db, domain)
    assert seen.verified_at is not None and may_have_certificate(db, HOST)


def test_a_caa_record_that_forbids_our_certificate_authority_is_named(
    db: Session, zone: DnsZone, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("EDGE_TLS", "acme")
    _instance(db, "shop")
    domain = _claim(db, "shop")
    zone.txt[PROOF], zone.cname[HOST] = f"portal-verify={domain.token}", "shop.hosting.test"
    zone.caa["example.org"] = [("issue", "pki.goog")]
    zone.apply()
    seen = _look(db, domain)
    assert seen.status == DomainStatus.WRONG_RECORDS and seen.verified_at is None
    assert "CAA records of example.org allow only pki.goog" in seen.message and "letsencrypt.org" in seen.message

    zone.caa["example.org"].append(("issue", "letsencrypt.org"))
    zone.apply()
    assert _look(db, domain).verified_at is not None


def test_of_two_claims_on_one_name_the_first_proof_wins_and_the_other_is_told(db: Session, zone: DnsZone) -> None:
    _instance(db, "shop")
    _instance(db, "other")
    first, second = _claim(db, "shop"), _claim(db, "other")
    zone.txt[PROOF] = f"portal-verify={first.token}"
    zone.cname[HOST] = "shop.hosting.test"
    zone.apply()
    assert _look(db, first).verified_at is not None
    zone.txt[PROOF] = f"portal-verify={second.token}"  # the name's owner hands it to the other account
    zone.cname[HOST] = "other.hosting.test"
    zone.apply()
    seen = _look(db, second)
    assert seen.status == DomainStatus.FAILED and "proven by another account first" in seen.message
    assert seen.verified_at is None


def test_a_domain_never_proven_is_given_up_with_what_was_last_seen(
    db: Session, zone: DnsZone, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("DOMAIN_GIVE_UP_HOURS", str(1 / 3600))
    _instance(db, "shop")
    domain = _claim(db, "shop")
    time.sleep(1.2)
    seen = _look(db, domain)
    assert seen.status == DomainStatus.FAILED and seen.next_check_at is None
    assert "Not proven within" in seen.message and "Check now" in seen.message
