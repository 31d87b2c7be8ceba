"""bookings: every instant in the one stored form of ``cloud.db.Instant`` (UTC)

Revision ID: bookings_0002_instants
Revises: bookings_0001

Every writer of these columns passed UTC, so on SQLite only a value in another text form (an
offset, no microseconds: a hand edit, an import) is rewritten; PostgreSQL needs nothing.
"""
from alembic import op

from cloud.db import rewrite_sqlite_instants

revision = "bookings_0002_instants"
down_revision = "bookings_0001"
branch_labels = None
depends_on = None

INSTANTS = {
    "bookings_booking": ("start", "end", "realised_start", "realised_end", "created_at",
                         "readiness_checked_at", "purged_at"),
    "bookings_slot": ("start",),
    "bookings_load": ("start",),
    "bookings_change": ("at",),
    "bookings_closure": ("start", "end"),
}


def upgrade() -> None:
    rewrite_sqlite_instants(op.get_bind(), INSTANTS)


def downgrade() -> None:
    pass  # the one stored form is what the earlier revisions read too
