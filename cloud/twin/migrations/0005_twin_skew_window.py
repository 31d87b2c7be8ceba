"""device twin: the clock-skew reading holds the least-delayed recent message

Revision ID: twin_0005_skew_window
Revises: twin_0004_link_probe
"""
import sqlalchemy as sa
from alembic import op

revision = "twin_0005_skew_window"
down_revision = "twin_0004_link_probe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("twin_device") as table:
        table.add_column(sa.Column("skew_confirmed_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("twin_device") as table:
        table.drop_column("skew_confirmed_ms")
