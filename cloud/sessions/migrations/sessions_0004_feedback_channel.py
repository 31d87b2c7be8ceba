"""sessions: feedback by text message: the channel of an answer, its visit, the second
question, and the single-use links of the messages

Revision ID: sessions_0004_feedback_channel
Revises: sessions_0003_interpretation
"""
import sqlalchemy as sa
from alembic import op

revision = "sessions_0004_feedback_channel"
down_revision = "sessions_0003_interpretation"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_index("ix_sessions_feedback_source", table_name="sessions_feedback")
    with op.batch_alter_table("sessions_feedback") as table:
        table.alter_column("session_id", existing_type=sa.Integer(), nullable=True)
        table.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("channel", sa.String(16), nullable=False,
                                   server_default="terminal"))
        table.add_column(sa.Column("use_again", sa.Boolean(), nullable=True))
    op.create_index("ix_sessions_feedback_source", "sessions_feedback",
                    ["session_id", "source", "channel"], unique=True)
    op.create_table(
        "sessions_feedback_link",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("authority", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions_feedback_link"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_feedback_link_token_hash"),
        sa.UniqueConstraint("booking_id", name="uq_sessions_feedback_link_booking_id"),
    )
    op.create_index("ix_sessions_feedback_link_created", "sessions_feedback_link",
                    ["created_at"])


def downgrade() -> None:
    op.drop_table("sessions_feedback_link")
    op.drop_index("ix_sessions_feedback_source", table_name="sessions_feedback")
    op.execute("DELETE FROM sessions_feedback WHERE session_id IS NULL OR channel <> 'terminal'")
    with op.batch_alter_table("sessions_feedback") as table:
        table.drop_column("use_again")
        table.drop_column("channel")
        table.drop_column("booking_id")
        table.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_sessions_feedback_source", "sessions_feedback",
                    ["session_id", "source"], unique=True)
