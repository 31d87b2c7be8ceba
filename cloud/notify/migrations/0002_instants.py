"""notify: every instant in the one stored form of ``cloud.db.Instant`` (UTC)

Revision ID: notify_0002_instants
Revises: notify_0001

Every writer of these columns passed UTC, so on SQLite only a value in another text form (an
offset, no microseconds: a hand edit, an import) is rewritten; PostgreSQL needs nothing.
"""
from alembic import op

from cloud.db import rewrite_sqlite_instants

revision = "notify_0002_instants"
down_revision = "notify_0001"
branch_labels = None
depends_on = None

INSTANTS = {
    "notify_message": ("created_at", "next_attempt_at", "claimed_until", "sent_at"),
    "notify_attempt": ("at",),
}


def upgrade() -> None:
    rewrite_sqlite_instants(op.get_bind(), INSTANTS)


def downgrade() -> None:
    pass  # the one stored form is what the earlier revisions read too
