"""The SQL store: migrations match the models, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import cloud.ingest.models  # noqa: F401  (tables register on import)
import cloud.twin.models  # noqa: F401
from cloud.db import Base, make_engine, migrate

OWN_TABLES = {"twin_agent", "twin_device", "twin_transition", "twin_event", "ingest_counter"}


def _differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()

    # other domains' tables are theirs to check
    return [d for d in diff if any(f"'{table}'" in repr(d) for table in OWN_TABLES)]


def test_migrations_create_exactly_the_twin_and_ingest_models_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite"
    migrate(url)
    assert _differences(url) == []


@pytest.mark.postgres
def test_migrations_create_exactly_the_twin_and_ingest_models_on_postgresql(postgres):
    url = postgres.create_database("twin_migrations")
    migrate(url)
    migrate(url)  # a second run is a no-op
    assert _differences(url) == []
