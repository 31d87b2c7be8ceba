"""device twin: agents, devices, transitions, events

Revision ID: twin_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "twin_0001"
down_revision = None
branch_labels = ("twin",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "twin_agent",
        sa.Column("site", sa.String(32), primary_key=True),
        sa.Column("room", sa.String(32), primary_key=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("since", TZ, nullable=False),
        sa.Column("version", sa.String(40)),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("site", "room", name="pk_twin_agent"),
    )
    op.create_table(
        "twin_device",
        sa.Column("site", sa.String(32)), sa.Column("room", sa.String(32)),
        sa.Column("device", sa.String(32)),
        sa.Column("state", sa.String(16)), sa.Column("code", sa.String(40)),
        sa.Column("detail", sa.String(200)), sa.Column("state_since", TZ),
        sa.Column("health_seq", sa.BigInteger()), sa.Column("last_seen_at", TZ),
        sa.Column("device_ts", sa.BigInteger()), sa.Column("skew_ms", sa.BigInteger()),
        sa.Column("seq_first", sa.BigInteger()), sa.Column("seq_last", sa.BigInteger()),
        sa.Column("seq_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("duplicates", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("site", "room", "device", name="pk_twin_device"),
    )
    op.create_table(
        "twin_transition",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(40)),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_twin_transition"),
    )
    op.create_index("ix_twin_transition_room", "twin_transition", ["site", "room", "id"])
    op.create_table(
        "twin_event",
        sa.Column("id", sa.String(64)),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_ts", sa.BigInteger(), nullable=False),
        sa.Column("synced", sa.Boolean(), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_twin_event"),
    )
    op.create_index("ix_twin_event_room_time", "twin_event", ["site", "room", "received_at"])


def downgrade() -> None:
    for table in ("twin_event", "twin_transition", "twin_device", "twin_agent"):
        op.drop_table(table)
