"""twin: every instant in the one stored form of ``cloud.db.Instant`` (UTC)

Revision ID: twin_0002_instants
Revises: twin_0001

Every writer of these columns passed UTC, so on SQLite only a value in another text form (an
offset, no microseconds: a hand edit, an import) is rewritten; PostgreSQL needs nothing.
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
    rewrite_sqlite_instants(op.get_bind(), INSTANTS)


def downgrade() -> None:
    pass  # the one stored form is what the earlier revisions read too
