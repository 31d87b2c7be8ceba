"""The upgrade to the one instant type keeps every stored instant and repairs the due times
that SQLite stored in Helsinki wall-clock time; PostgreSQL's values stay as they are."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from cloud.db import alembic_config, make_engine, migrate
from tests.time.conftest import ADMIN, make_app

# supplier, notified Friday 9 January 2026 16:00 in Helsinki: due Monday 08:15 (06:15 UTC)
OPENED, NOTIFIED = (datetime(2026, 1, 9, 13, 59, tzinfo=UTC),
                    datetime(2026, 1, 9, 14, 0, tzinfo=UTC))
ROW = {"site": "porvoo", "room": "r1", "device": "doccam", "rule": "doccam_fault",
       "category": "equipment", "owner": "service", "party": "supplier", "state": "notified",
       "manual": False, "flapping": False, "reopened": 0}
INSERT = text(
    "INSERT INTO incident (id, site, room, device, rule, category, owner, party, severity, state,"
    " manual, flapping, reopened, opened_at, notified_at, due_at, updated_at) VALUES (:id, :site,"
    " :room, :device, :rule, :category, :owner, :party, :severity, :state, :manual, :flapping,"
    " :reopened, :opened, :notified, :due, :opened)")


def before_instants(url: str) -> None:
    """The store as the previous release left it: every branch up to date, the incidents
    branch just before its instants revision."""
    config = alembic_config(url)
    command.upgrade(config, "heads")
    script = ScriptDirectory.from_config(config)
    command.downgrade(config, script.get_revision("incidents_0003_instants").down_revision)


def test_the_upgrade_answers_every_due_time_as_the_sla_clock_set_it(database_url):
    before_instants(database_url)
    engine = make_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    # what the previous release stored: on SQLite the wall time of whatever offset it was
    # given (the due time of a later interval in Helsinki time), on PostgreSQL the instant
    stored = {
        1: ("major", "2026-01-12 08:15:00.000000" if sqlite else "2026-01-12T06:15:00Z"),
        2: ("critical", "2026-01-09 14:30:00.000000" if sqlite else "2026-01-09T14:30:00Z"),
    }
    with engine.begin() as conn:
        for incident_id, (severity, due) in stored.items():
            conn.execute(INSERT, {**ROW, "id": incident_id, "severity": severity, "due": due,
                                  "opened": "2026-01-09 13:59:00" if sqlite else OPENED,
                                  "notified": "2026-01-09T14:00:00+00:00" if sqlite
                                  else NOTIFIED})
    engine.dispose()
    migrate(database_url)
    app = make_app(database_url, NOTIFIED)
    with TestClient(app) as client:
        normal, critical = (client.get(f"/api/incidents/{i}", headers=ADMIN).json()
                            for i in stored)
    app.state.engine.dispose()
    assert normal["due_at"] == "2026-01-12T06:15:00Z"
    assert critical["due_at"] == "2026-01-09T14:30:00Z"
    assert (normal["opened_at"], normal["notified_at"]) == ("2026-01-09T13:59:00Z",
                                                            "2026-01-09T14:00:00Z")
