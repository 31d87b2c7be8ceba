"""ingest counters

Revision ID: ingest_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "ingest_0001"
down_revision = None
branch_labels = ("ingest",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_counter",
        sa.Column("worker", sa.String(64)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", "outcome", name="pk_ingest_counter"),
    )


def downgrade() -> None:
    op.drop_table("ingest_counter")
