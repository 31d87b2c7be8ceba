"""sessions: a third party's identity as a keyed hash, so one person is one participant

Revision ID: sessions_0002_identity
Revises: sessions_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "sessions_0002_identity"
down_revision = "sessions_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions_participant") as table:
        table.add_column(sa.Column("identity_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions_participant") as table:
        table.drop_column("identity_hash")
