"""The sessions' revisions create exactly the sessions' models, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

import cloud.sessions.models  # noqa: F401  (tables register on import)
from cloud.db import migrate
from tests.store import schema_differences


def test_the_sessions_migrations_match_the_models_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite"
    migrate(url)
    assert schema_differences(url, "sessions_") == []


@pytest.mark.postgres
def test_the_sessions_migrations_match_the_models_on_postgresql(postgres):
    url = postgres.create_database("sessions_migrations")
    migrate(url)
    migrate(url)
    assert schema_differences(url, "sessions_") == []
