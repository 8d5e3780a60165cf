"""The last slot on PostgreSQL: eight placements racing in their own transactions for three slots place three.
Each decided from the same view of the servers; the conditional UPDATE's row lock and re-check settle it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from services.capacity import placement, servers
from services.capacity.placement import NoCapacity
from services.db import dispose_engines, session_scope
from services.models import Instance
from tests.support.databases import fresh_postgres_database
from tests.support.env import SettingsEnv, require_env
from tests.support.factories import customer_instance


@pytest.fixture()
def pg_db(settings_env: SettingsEnv) -> Iterator[None]:
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        settings_env.setenv("DATABASE_URL", url)
        dispose_engines()
        yield
    dispose_engines()


def test_racing_placements_never_overfill_a_server(pg_db: None, db: Session) -> None:
    assert db.get_bind().dialect.name == "postgresql"
    servers.add_server(db, name="a", backend="docker", address="unix:///run/a.sock", max_instances=2)
    servers.add_server(db, name="b", backend="docker", address="unix:///run/b.sock", max_instances=1)
    ids = [customer_instance(db, f"pg{n}").id for n in range(8)]
    db.commit()
    barrier, outcomes = threading.Barrier(len(ids)), []

    def race(instance_id: int) -> None:
        with session_scope() as session:
            instance = session.get(Instance, instance_id)
            placement.candidates(session, "docker", None)  # every racer sees both servers with room
            barrier.wait()
            try:
                outcomes.append(placement.place(session, instance).name)  # type: ignore[arg-type]
            except NoCapacity:
                outcomes.append("no capacity")

    threads = [threading.Thread(target=race, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["a", "a", "b"] + ["no capacity"] * 5
    servers.recount(db)  # the counters agree with the instances placed
    db.commit()
    assert [(s.name, s.instances) for s in servers.pool(db)] == [("a", 2), ("b", 1)]
