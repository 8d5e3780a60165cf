"""Migrations round-trip on SQLite and PostgreSQL, and the models never drift from the migrations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from alembic import command
from services.models import metadata
from tests.support.databases import fresh_postgres_database
from tests.support.env import PROJECT_ROOT, require_env


def _config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    return config


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = require_env("PORTAL_TEST_POSTGRES_URL", "PostgreSQL")
    with fresh_postgres_database(server) as url:
        yield url


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(database_url: str) -> None:
    config = _config(database_url)
    command.upgrade(config, "head")
    assert set(metadata.tables) <= _tables(database_url)

    command.downgrade(config, "base")
    assert _tables(database_url) <= {"alembic_version"}

    command.upgrade(config, "head")
    assert set(metadata.tables) <= _tables(database_url)


def test_autogenerate_against_head_finds_no_changes(database_url: str) -> None:
    command.upgrade(_config(database_url), "head")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration for: {diff}"


def test_licences_keep_what_they_granted_under_the_enforced_feature_names(database_url: str) -> None:
    from sqlalchemy import text

    config = _config(database_url)
    command.upgrade(config, "0004")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (id, name, slug, kind, status, created_at) "
                    "VALUES (1, 'R', 'r', 'reseller', 'active', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO licence (organization_id, tier, features, authorized_domains, "
                    "status, created_at) VALUES (1, 't', :f, '[]', 'active', CURRENT_TIMESTAMP)"
                ),
                {"f": '["custom_domain", "branding"]'},
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            features, grace = connection.execute(text("SELECT features, grace_days FROM licence")).one()
    finally:
        engine.dispose()
    features = json.loads(features) if isinstance(features, str) else features
    assert sorted(features) == ["custom_css", "custom_domains", "hide_platform_branding"] and grace == 14


def test_the_single_engine_of_before_becomes_the_pools_first_server_holding_what_runs(database_url: str) -> None:
    from sqlalchemy import text

    config = _config(database_url)
    command.upgrade(config, "0014")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (id, name, slug, kind, status, created_at) "
                    "VALUES (1, 'C', 'c', 'customer', 'active', CURRENT_TIMESTAMP)"
                )
            )
            for number, (subdomain, status) in enumerate((("live", "running"), ("gone", "deprovisioned")), 1):
                connection.execute(
                    text(
                        "INSERT INTO instance (id, organization_id, subdomain, backend, status, desired_state, "
                        "created_at, updated_at) VALUES (:id, 1, :sub, 'docker', :status, 'running', "
                        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": number, "sub": subdomain, "status": status},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            servers = connection.execute(text("SELECT id, name, address, allocated_instances FROM server")).all()
            placed = dict(connection.execute(text("SELECT subdomain, server_id FROM instance")).all())
    finally:
        engine.dispose()
    assert [(name, address, count) for _id, name, address, count in servers] == [("docker-1", "", 1)]
    assert placed == {"live": servers[0][0], "gone": None}  # a removed instance holds no slot
