"""The sessions' revisions create exactly the sessions' models, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import cloud.sessions.models  # noqa: F401  (tables register on import)
from cloud.db import Base, make_engine, migrate


def _differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if "sessions_" in repr(d)]


def test_the_sessions_migrations_match_the_models_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite"
    migrate(url)
    assert _differences(url) == []


@pytest.mark.postgres
def test_the_sessions_migrations_match_the_models_on_postgresql(postgres):
    url = postgres.create_database("sessions_migrations")
    migrate(url)
    migrate(url)
    assert _differences(url) == []
