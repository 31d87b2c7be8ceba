"""runtime: the ingest workers' link to the rooms' broker

Revision ID: runtime_0002
Revises: runtime_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "runtime_0002"
down_revision = "runtime_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runtime_broker_link",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("since", TZ, nullable=False),
        sa.Column("lost_at", TZ, nullable=True),
        sa.Column("beat_at", TZ, nullable=False),
        sa.Column("stopped_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_broker_link")),
    )


def downgrade() -> None:
    op.drop_table("runtime_broker_link")
