"""statistics: each finished day's occupied times of every room

Revision ID: stats_0001_occupancy
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "stats_0001_occupancy"
down_revision = None
branch_labels = ("stats",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_occupancy_day",
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", "room", "day", name=op.f("pk_stats_occupancy_day")),
    )


def downgrade() -> None:
    op.drop_table("stats_occupancy_day")
