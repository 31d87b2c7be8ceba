"""The SQL store: migrations match the models, on SQLite and on PostgreSQL."""
from __future__ import annotations

import subprocess
import sys

import pytest

import cloud.ingest.models
import cloud.twin.models  # noqa: F401
from cloud.db import alembic_config, make_engine, migrate
from tests.store import schema_differences

OWN_TABLES = {"twin_agent", "twin_device", "twin_transition", "twin_event", "twin_occupancy",
              "ingest_counter"}


def test_migrations_create_exactly_the_twin_and_ingest_models_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite"
    migrate(url)
    assert schema_differences(url, *(f"'{t}'" for t in OWN_TABLES)) == []


@pytest.mark.postgres
def test_migrations_create_exactly_the_twin_and_ingest_models_on_postgresql(postgres):
    url = postgres.create_database("twin_migrations")
    migrate(url)
    migrate(url)  # a second run is a no-op
    assert schema_differences(url, *(f"'{t}'" for t in OWN_TABLES)) == []


def test_upgrading_keeps_each_rooms_occupancy_from_its_events(tmp_path):
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/m.sqlite"
    command.upgrade(alembic_config(url), "twin_0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        for event_id, site, seq, occupied in (("occupancy-0001", "porvoo", 1, "true"),
                                              ("occupancy-0002", "porvoo", 2, "false"),
                                              ("occupancy-0003", "imatra", 5, "true")):
            conn.execute(text(
                "INSERT INTO twin_event (id, site, room, device, type, data, seq, device_ts, "
                "synced, received_at) VALUES (:id, :site, 'r1', 'occupancy', 'occupancy', "
                f"'{{\"type\": \"occupancy\", \"occupied\": {occupied}}}', :seq, 0, 1, "
                "'2026-11-30 08:00:00.000000')"), {"id": event_id, "site": site, "seq": seq})
    migrate(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT site, occupied, seq FROM twin_occupancy ORDER BY site"))
        assert [tuple(r) for r in rows] == [("imatra", 1, 5), ("porvoo", 0, 2)]
    engine.dispose()


def test_the_twin_knows_nothing_of_who_feeds_it():
    probe = ("import sys, cloud.twin.batch, cloud.twin.service; "
             "print(sorted(m for m in sys.modules if m.startswith('cloud.ingest')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
