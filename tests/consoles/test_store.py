"""The consoles' revision branch creates exactly the consoles' table, on SQLite and on
PostgreSQL, and a second run changes nothing."""
from __future__ import annotations

import pytest

import cloud.consoles.models  # noqa: F401  (the table registers on import)
from cloud.db import migrate
from tests.store import schema_differences


def test_the_migration_matches_the_model_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/consoles.sqlite"
    migrate(url)
    assert schema_differences(url, "consoles_task_entry") == []


@pytest.mark.postgres
def test_the_migration_matches_the_model_on_postgresql(postgres):
    url = postgres.create_database("consoles_migrations")
    migrate(url)
    migrate(url)
    assert schema_differences(url, "consoles_task_entry") == []
