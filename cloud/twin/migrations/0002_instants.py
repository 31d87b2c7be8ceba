"""twin: every instant in the one stored form of ``cloud.db.Instant`` (UTC)

Revision ID: twin_0002_instants
Revises: twin_0001

On SQLite an instant is the UTC wall time as text (``cloud.db.SQLITE_INSTANT``); every writer
of these columns passed UTC, so only a value in another text form (with an offset or without
the microseconds, from a hand edit or an import) is rewritten. PostgreSQL's ``timestamptz``
holds the instant itself: nothing to do there.
"""
from alembic import op

from cloud.db import rewrite_sqlite_instants

revision = "twin_0002_instants"
down_revision = "twin_0001"
branch_labels = None
depends_on = None

INSTANTS = {
    "twin_agent": ("since", "updated_at"),
    "twin_device": ("state_since", "last_seen_at"),
    "twin_transition": ("at",),
    "twin_event": ("received_at",),
}


def upgrade() -> None:
    for table, columns in INSTANTS.items():
        rewrite_sqlite_instants(op.get_bind(), table, columns)


def downgrade() -> None:
    pass  # the one stored form is what the earlier revisions read too
