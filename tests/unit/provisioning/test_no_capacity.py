"""No server with room: the provisioning parks at once with "no capacity" and staff are told, once."""

from __future__ import annotations

from sqlmodel import Session, select

from services.models import Incident, ProvisioningAction, Server
from services.provisioning import actions, engine
from tests.support.memory_backend import memory_instance, request


def test_no_capacity_parks_the_provisioning_and_alerts_staff(db: Session, memory) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    db.add(Server(name="memory-1", backend="memory", max_instances=1))  # the memory backend's pool: one slot
    db.commit()
    first, second = memory_instance(db, "first"), memory_instance(db, "second")
    assert engine.execute(request(db, first, actions.PROVISION)) == "succeeded"
    parked = request(db, second, actions.PROVISION)
    assert engine.execute(parked) == "parked"  # at once: retrying cannot make room
    row = db.get(ProvisioningAction, parked)
    db.refresh(row)
    assert row.last_error.startswith("place: No memory server has room")  # type: ignore[union-attr]
    assert backend.calls.count("prepare") == 1 and set(backend.containers) == {"first"}  # nothing for the second
    assert db.exec(select(Incident).where(Incident.key == parked)).one().resolved_at is None  # staff are told
    db.refresh(first)
    assert first.server_id is not None and second.server_id is None
