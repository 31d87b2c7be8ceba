"""The consoles' revision branch creates exactly the consoles' table, on SQLite and on
PostgreSQL, and a second run changes nothing."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import cloud.consoles.models  # noqa: F401  (the table registers on import)
from cloud.db import Base, make_engine, migrate


def _differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if "consoles_task_entry" in repr(d)]


def test_the_migration_matches_the_model_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/consoles.sqlite"
    migrate(url)
    assert _differences(url) == []


@pytest.mark.postgres
def test_the_migration_matches_the_model_on_postgresql(postgres):
    url = postgres.create_database("consoles_migrations")
    migrate(url)
    migrate(url)
    assert _differences(url) == []
