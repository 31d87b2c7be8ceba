"""calls: a call per button press, and the changes whose ids are the live cursor

Revision ID: calls_0001_summon
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "calls_0001_summon"
down_revision = None
branch_labels = ("calls",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls_call",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("press_event_id", sa.String(64), nullable=False),
        sa.Column("pressed_at", TZ, nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", TZ), sa.Column("sms_at", TZ),
        sa.Column("acknowledged_at", TZ), sa.Column("acknowledged_by", sa.Integer()),
        sa.Column("arrived_at", TZ), sa.Column("cleared_at", TZ),
        sa.Column("clear_reason", sa.String(16)),
        sa.PrimaryKeyConstraint("id", name="pk_calls_call"),
        sa.UniqueConstraint("press_event_id", name="uq_calls_call_press_event_id"),
    )
    op.create_index("uq_calls_call_open_room", "calls_call", ["site", "room"], unique=True,
                    sqlite_where=sa.text("cleared_at IS NULL"),
                    postgresql_where=sa.text("cleared_at IS NULL"))
    op.create_index("ix_calls_call_pressed_at", "calls_call", ["pressed_at"])
    op.create_table(
        "calls_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls_call.id"], ondelete="CASCADE",
                                name="fk_calls_change_call_id_calls_call"),
        sa.PrimaryKeyConstraint("id", name="pk_calls_change"),
    )
    op.create_index("ix_calls_change_call", "calls_change", ["call_id"])


def downgrade() -> None:
    op.drop_table("calls_change")
    op.drop_table("calls_call")
