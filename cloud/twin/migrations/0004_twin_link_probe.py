"""device twin: each room's link as the last WebRTC link probe measured it

Revision ID: twin_0004_link_probe
Revises: twin_0003_presence
"""
import sqlalchemy as sa
from alembic import op

revision = "twin_0004_link_probe"
down_revision = "twin_0003_presence"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "twin_link",
        sa.Column("site", sa.String(32)), sa.Column("room", sa.String(32)),
        sa.Column("rtt_ms", sa.Float(), nullable=False),
        sa.Column("jitter_ms", sa.Float(), nullable=False),
        sa.Column("loss_up_pct", sa.Float(), nullable=False),
        sa.Column("loss_down_pct", sa.Float(), nullable=False),
        sa.Column("bitrate_kbps", sa.Float(), nullable=False),
        sa.Column("setup_ms", sa.Float(), nullable=False),
        sa.Column("measured_at", TZ, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site", "room", name="pk_twin_link"),
    )


def downgrade() -> None:
    op.drop_table("twin_link")
