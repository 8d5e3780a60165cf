"""Usage records the AI gateway sends back: each request's cost, exactly once per LiteLLM call id.

The gateway is trusted to say which instance a record belongs to (its hook resolved the instance's key), but
not to send well-formed records: a malformed record, or one for an instance that no longer exists, is rejected
alone and named in the answer, so one bad record cannot hold back the rest of the gateway's buffer forever."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.errors import ValidationFailed
from services.i18n.message import say
from services.models import Instance
from services.usage.ingest import MAX_BATCH, ingest, parse_batch


def ingest_gateway_batch(session: Session, body: Any) -> dict[str, Any]:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records or len(records) > MAX_BATCH:
        raise ValidationFailed.single("records", say("must be a list of 1 to {batch} usage records", batch=MAX_BATCH))
    by_instance: dict[int, list[dict[str, Any]]] = {}
    rejected: list[dict[str, str]] = []
    for item in records:
        instance_id = item.get("instance_id") if isinstance(item, dict) else None
        if isinstance(instance_id, bool) or not isinstance(instance_id, int):
            rejected.append({"id": str(item.get("id", "")) if isinstance(item, dict) else "", "error": "no instance"})
            continue
        by_instance.setdefault(instance_id, []).append(item)
    known = set(session.exec(select(Instance.id).where(col(Instance.id).in_(list(by_instance)))).all())
    accepted = duplicates = 0
    counted: set[int] = set()
    for instance_id, items in by_instance.items():
        if instance_id not in known:
            rejected += [{"id": str(i.get("id", "")), "error": "unknown instance"} for i in items]
            continue
        good = []
        for item in items:  # each record on its own, so one malformed record rejects only itself
            try:
                good += parse_batch({"records": [item]})
            except ValidationFailed as exc:
                rejected.append({"id": str(item.get("id", ""))[:100], "error": "; ".join(exc.errors.values())})
        if not good:
            continue
        try:
            with session.begin_nested():  # a counter that would overflow rejects this instance's records only
                fresh, again = ingest(session, instance_id, good)
        except ValidationFailed as exc:
            rejected += [{"id": r.key, "error": "; ".join(exc.errors.values())} for r in good]
            continue
        accepted, duplicates = accepted + fresh, duplicates + again
        counted.add(instance_id)
    return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected, "instances": sorted(counted)}
