"""incidents: every instant in the one stored form of ``cloud.db.Instant`` (UTC); due times
written in the party's wall-clock time repaired

Revision ID: incidents_0003_instants
Revises: incidents_0002

On SQLite an instant is the UTC wall time as text (``cloud.db.SQLITE_INSTANT``). Before this
revision the incident columns were plain ``DateTime``, which on SQLite drops the offset of
whatever it is given. Every writer passed UTC but one: a due time that falls in a later
service interval came from the SLA clock in the party's time zone (Europe/Helsinki), so it was
stored 2 hours (3 in summer) late. Such a row is recognised exactly: read as the party's wall
time it equals the SLA clock's due time recomputed from the row's start; it is rewritten in UTC.
A row that matches neither reading (its party or hours changed since) is left as it is and
counted in the log. PostgreSQL's ``timestamptz`` converted every value right: nothing to do.
A silence entered through the API with a non-UTC offset kept its wall time without the offset;
nothing in the row says which offset it had, so silences are left as stored (they are short).
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from cloud.db import SQLITE_INSTANT, rewrite_sqlite_instants, stored_instant
from etapalvelu.logs import event_log

revision = "incidents_0003_instants"
down_revision = "incidents_0002"
branch_labels = None
depends_on = None

log = event_log("alembic.runtime.migration")
INSTANTS = {
    "incident": ("opened_at", "notified_at", "due_at", "acknowledged_at", "resolved_at",
                 "closed_at", "escalated_at", "updated_at"),
    "incident_event": ("at",),
    "incident_silence": ("starts_at", "ends_at", "created_at"),
    "incident_link": ("created_at", "expires_at", "used_at"),
    "incident_cursor": ("updated_at", "lease_until"),
}


def upgrade() -> None:
    connection = op.get_bind()
    rewrite_sqlite_instants(connection, INSTANTS)
    if connection.dialect.name == "sqlite":
        _repair_due_times(connection)


def _repair_due_times(connection) -> None:
    rows = connection.execute(sa.text(
        "SELECT id, party, notified_at, opened_at, due_at FROM incident "
        "WHERE due_at IS NOT NULL AND severity != 'critical'")).all()
    if not rows:
        return
    try:
        matrix = _matrix()
    except Exception as error:  # noqa: BLE001 - the upgrade must not stop on a bad matrix file
        log.warning("incidents.due_times_not_checked", reason="the matrix does not load", error=error)
        return
    repaired = unexplained = 0
    for incident_id, party, notified_at, opened_at, due_at in rows:
        due = _due(matrix, party, stored_instant(notified_at or opened_at))
        if due is None or stored_instant(due_at) == due:
            continue
        zone = matrix.clock(party).hours.tz
        if datetime.fromisoformat(due_at).replace(tzinfo=zone) == due:
            connection.execute(sa.text("UPDATE incident SET due_at = :due WHERE id = :id"),
                               {"due": due.astimezone(UTC).strftime(SQLITE_INSTANT),
                                "id": incident_id})
            repaired += 1
        else:
            unexplained += 1
    log.info("incidents.due_times_repaired", repaired=repaired, left_as_stored=unexplained)


def _matrix():
    """The deployment's responsibility matrix, as the engine loads it."""
    from cloud.incidents.matrix import load_matrix
    from cloud.incidents.settings import IncidentSettings
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings

    registry = load_registry(CloudSettings().registry_file)
    return load_matrix(IncidentSettings().matrix_file, list(registry.sites))


def _due(matrix, party: str, start: datetime) -> datetime | None:
    """The SLA clock's due time of a normal incident of ``party`` started at ``start``."""
    try:
        return matrix.clock(party).due(start, matrix.party(party).response_time)
    except (KeyError, ValueError):
        return None  # the party is gone from the matrix, or its hours never open


def downgrade() -> None:
    pass  # UTC is what the earlier revisions meant to store
