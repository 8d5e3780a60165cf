"""Placement on the pool: spread and pack, capacity respected, the last slot won once, no room parks and alerts."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from services.capacity import placement, servers
from services.capacity.placement import NoCapacity
from services.db import session_scope
from services.models import Instance, Plan, Server, Subscription
from tests.support.factories import customer_instance


def _pool(db: Session, *specs: tuple[str, int | None, int | None]) -> None:
    for name, memory_mb, max_instances in specs:
        servers.add_server(
            db,
            name=name,
            backend="docker",
            address=f"unix:///run/{name}.sock",
            memory_mb=memory_mb,
            max_instances=max_instances,
        )
    servers.ensure_first_server(db, "docker")  # present already: adding servers made the pool
    db.commit()


def _place_all(db: Session, count: int, strategy: str) -> dict[str, int]:
    for n in range(count):
        instance = customer_instance(db, f"{strategy}{n}")
        placement.place(db, instance, strategy=strategy)
        db.commit()
    placed: dict[str, int] = {}
    for server in db.exec(select(Server)).all():
        db.refresh(server)
        placed[server.name] = server.allocated_instances
    return placed


def test_spread_puts_each_new_instance_on_the_least_loaded_server(db: Session) -> None:
    _pool(db, ("a", 1024, None), ("b", 1024, None), ("c", 1024, None))
    assert _place_all(db, 6, "spread") == {"a": 2, "b": 2, "c": 2}
    a = db.exec(select(Server).where(Server.name == "a")).one()
    assert a.allocated_memory_mb == 128 and a.allocated_millicpus == 1000  # two plans of 64 MB and half a CPU


def test_pack_fills_the_fullest_server_that_still_has_room(db: Session) -> None:
    _pool(db, ("a", 1024, 4), ("b", 1024, 4))
    assert _place_all(db, 5, "pack") == {"a": 4, "b": 1}


def test_memory_is_never_overcommitted_and_no_room_says_so(db: Session) -> None:
    _pool(db, ("small", 100, None))
    first = customer_instance(db, "fits")
    assert placement.place(db, first).name == "small"
    db.commit()
    second = customer_instance(db, "toolarge")
    with pytest.raises(NoCapacity, match="No docker server has room"):
        placement.place(db, second)
    db.rollback()
    assert db.get(Instance, second.id).server_id is None  # type: ignore[union-attr]


def test_a_plan_region_places_only_on_its_region(db: Session) -> None:
    servers.add_server(db, name="eu", backend="docker", address="unix:///run/eu.sock", region="eu-1")
    servers.add_server(db, name="us", backend="docker", address="unix:///run/us.sock", region="us-1")
    instance = customer_instance(db, "european")
    plan = db.get(Plan, db.get(Subscription, instance.subscription_id).plan_id)  # type: ignore[union-attr]
    plan.region = "eu-1"  # type: ignore[union-attr]
    db.add(plan)
    db.commit()
    for _ in range(3):
        assert placement.place(db, instance).name == "eu"  # and kept once chosen


def test_draining_and_down_servers_take_nothing_new(db: Session) -> None:
    _pool(db, ("a", None, None), ("b", None, None))
    servers.drain(db, "a")
    b = servers.get_server(db, "b")
    servers.mark_down(db, b)
    db.commit()
    with pytest.raises(NoCapacity):
        placement.place(db, customer_instance(db, "nowhere"))


def test_release_gives_the_slot_back_and_recount_agrees(db: Session) -> None:
    _pool(db, ("a", 1024, 1))
    instance = customer_instance(db, "leaving")
    placement.place(db, instance)
    db.commit()
    placement.release(db, instance)
    db.commit()
    a = servers.get_server(db, "a")
    db.refresh(a)
    assert (a.allocated_instances, a.allocated_memory_mb, a.allocated_millicpus) == (0, 0, 0)
    placement.place(db, customer_instance(db, "next"))  # the one slot is free again
    a.allocated_instances = 7  # hand-edited drift
    db.add(a)
    db.commit()
    servers.recount(db)
    db.commit()
    db.refresh(a)
    assert a.allocated_instances == 1


def test_two_placements_racing_for_the_last_slot_place_one(db: Session) -> None:
    """Two workers, each in its own transaction, both see the slot free; the database lets one take it."""
    _pool(db, ("last", None, 1))
    ids = [customer_instance(db, f"racer{n}").id for n in range(2)]
    db.commit()
    barrier, outcomes = threading.Barrier(2), []

    def race(instance_id: int) -> None:
        with session_scope() as session:
            instance = session.get(Instance, instance_id)
            candidates = placement.candidates(session, "docker", None)
            assert [s.name for s in candidates if placement.fits(s, placement.Need())] == ["last"]
            barrier.wait()  # both decided the slot is free before either takes it
            try:
                placement.place(session, instance)  # type: ignore[arg-type]
                outcomes.append("placed")
            except NoCapacity:
                outcomes.append("no capacity")

    threads = [threading.Thread(target=race, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["no capacity", "placed"]
    last = servers.get_server(db, "last")
    db.refresh(last)
    assert last.allocated_instances == 1
