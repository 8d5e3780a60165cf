"""Keeps the gateway's cache in step with the database: within a second of a change, and in full each minute.

Every change that alters what a key may do (an instance suspended or resumed, a subscription's plan or status,
a plan's models or limits, a budget's counter or period, a key issued or revoked) goes through a session the
portal commits. A `before_flush` listener on every session notes which instances such a change touches, and once
the transaction commits their rules are computed again and written; so no flow (webhook, console, job, API) has
to remember to tell the gateway. A budget counter moved in SQL (usage ingestion) is noted with `touch`. The
minute's `sync_all` repairs anything lost on the way (a cache flushed, a process killed between commit and
write)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from services.config import get_settings
from services.db import after_commit, session_scope
from services.gateway.cache import policy_cache
from services.gateway.keys import SCOPE
from services.gateway.policy import key_policies
from services.models import ApiToken, Budget, Instance, Plan, Subscription

log = logging.getLogger(__name__)
INFO_KEY = "gateway_touched"


@dataclass
class _Touched:
    instances: set[int] = field(default_factory=set)
    subscriptions: set[int] = field(default_factory=set)
    plans: set[int] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)


def enabled() -> bool:
    return bool(get_settings().ai_gateway_url)


def _touched(session: OrmSession) -> _Touched:
    """This transaction's notes; the first note of a transaction arranges their push once it commits (a rolled
    back transaction's notes are left behind with it)."""
    transaction = session.get_transaction()
    noted = session.info.get(INFO_KEY)
    if noted is None or noted[0] is not transaction:
        touched = _Touched()
        session.info[INFO_KEY] = (transaction, touched)
        after_commit(session, lambda: _push(touched))  # type: ignore[arg-type]
        return touched
    existing: _Touched = noted[1]
    return existing


def touch(session: Session, instance_id: int) -> None:
    """Note a change made in SQL (which the listener cannot see) to `instance_id`'s rules."""
    if enabled():
        _touched(session).instances.add(instance_id)


def _note(session: OrmSession, _context: Any, _instances: Any) -> None:
    if not enabled():
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Instance) and obj.id is not None:
            _touched(session).instances.add(obj.id)
        elif isinstance(obj, Subscription) and obj.id is not None:
            _touched(session).subscriptions.add(obj.id)
        elif isinstance(obj, Budget):
            _touched(session).subscriptions.add(obj.subscription_id)
        elif isinstance(obj, Plan) and obj.id is not None:
            _touched(session).plans.add(obj.id)
        elif isinstance(obj, ApiToken) and obj.scopes == SCOPE and obj.instance_id is not None:
            _touched(session).instances.add(obj.instance_id)
            if obj.revoked_at is not None or obj in session.deleted:
                _touched(session).revoked.add(obj.token_hash)


def _instance_ids(session: Session, touched: _Touched) -> set[int]:
    ids: set[int | None] = set(touched.instances)
    if touched.subscriptions:
        ids.update(
            session.exec(select(col(Instance.id)).where(col(Instance.subscription_id).in_(touched.subscriptions)))
        )
    if touched.plans:
        ids.update(
            session.exec(
                select(col(Instance.id))
                .join(Subscription, col(Subscription.id) == col(Instance.subscription_id))
                .where(col(Subscription.plan_id).in_(touched.plans))
            )
        )
    return {i for i in ids if i is not None}


def _push(touched: _Touched) -> None:
    with session_scope() as session:
        ids = _instance_ids(session, touched)
        policies = key_policies(session, ids) if ids else {}
    cache = policy_cache()
    cache.forget(touched.revoked - set(policies))
    cache.write(policies)


def push_instances(instance_ids: set[int]) -> dict[str, float]:
    """Write the rules of these instances' keys now; each key's `written_at`, which the gateway's usage report
    gets back: from that version on, the rules include the usage it reported (so it stops adding it itself)."""
    if not enabled() or not instance_ids:
        return {}
    with session_scope() as session:
        policies = key_policies(session, instance_ids)
    policy_cache().write(policies)
    return {token_hash: rules.written_at for token_hash, rules in policies.items()}


def sync_all() -> int:
    """Write every live key's rules and forget every key that is no longer live; the number of live keys."""
    with session_scope() as session:
        policies = key_policies(session)
    cache = policy_cache()
    cache.write(policies)
    cache.forget(cache.hashes() - set(policies))
    return len(policies)


event.listen(OrmSession, "before_flush", _note)
