"""calls: why the advisor is called (the customer, or the expert asking for an identity check)
and the session that asked

Revision ID: calls_0002_identity
Revises: calls_0001_summon
"""
import sqlalchemy as sa
from alembic import op

revision = "calls_0002_identity"
down_revision = "calls_0001_summon"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls_call") as table:
        table.add_column(sa.Column("reason", sa.String(16), nullable=False,
                                   server_default="customer"))
        table.add_column(sa.Column("session_id", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("calls_call") as table:
        table.drop_column("session_id")
        table.drop_column("reason")
