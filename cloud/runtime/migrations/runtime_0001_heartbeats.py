"""runtime: heartbeats of the cloud's processes

Revision ID: runtime_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "runtime_0001"
down_revision = None
branch_labels = ("runtime",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runtime_heartbeat",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("host", sa.String(100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("beat_at", TZ, nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("stopped_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("runtime_heartbeat")
