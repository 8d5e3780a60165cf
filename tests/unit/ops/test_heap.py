"""Start-up objects leave the collector's full passes, in the web process's ASGI factory and in the consumer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services import worker
from services.ops.heap import settle_after_startup, unsettle
from tests.support.billing import production_app


@pytest.fixture(autouse=True)
def unsettled() -> Iterator[None]:
    unsettle()
    yield
    unsettle()


def test_what_lives_at_startup_is_no_longer_walked_by_full_collections() -> None:
    built = [[n] for n in range(20_000)]  # lists, which the collector tracks, alive for the process's life
    set_aside = settle_after_startup()
    assert set_aside >= len(built)
    walked = {id(obj) for obj in gc.get_objects()}
    assert not any(id(obj) in walked for obj in built)
    later = [[n] for n in range(1_000)]
    settle_after_startup()  # once per process: a second call sets nothing more aside
    walked = {id(obj) for obj in gc.get_objects()}
    assert all(id(obj) in walked for obj in later)
    assert not any(id(obj) in walked for obj in built)


def test_cycles_made_after_startup_are_still_collected() -> None:
    settle_after_startup()

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # type: ignore[attr-defined]
    del first, second
    assert gc.collect() >= 2


def test_the_production_asgi_factory_sets_its_startup_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.get_freeze_count() == 0
    production_app(monkeypatch, [])
    assert gc.get_freeze_count() > 10_000  # the app's modules, mappers and pages


def test_each_consumer_sets_its_startup_aside_as_it_starts() -> None:
    assert worker.set_startup_objects_aside in worker.huey._startup.values()  # huey runs these in each worker
    worker.set_startup_objects_aside()
    assert gc.get_freeze_count() > 10_000
