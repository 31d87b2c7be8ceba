"""sessions: video sessions, participants, events, invitations, seen ID tokens, feedback

Revision ID: sessions_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "sessions_0001"
down_revision = None
branch_labels = ("sessions",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def _session_fk() -> sa.Column:
    return sa.Column("session_id", sa.Integer(), sa.ForeignKey(
        "sessions_session.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sessions_session",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("authority", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("slot_start", TZ, nullable=False),
        sa.Column("slot_end", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("warned_at", TZ, nullable=True),
    )
    op.create_index("ix_sessions_session_room", "sessions_session",
                    ["site", "room", "slot_start"])
    op.create_index("ix_sessions_session_started", "sessions_session", ["started_at"])
    op.create_table(
        "sessions_participant",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _session_fk(),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("shown_name", sa.String(100), nullable=True),
        sa.Column("assurance", sa.String(64), nullable=True),
        sa.Column("authenticated_at", TZ, nullable=True),
        sa.Column("affirmed_at", TZ, nullable=True),
        sa.Column("joined_at", TZ, nullable=False),
        sa.Column("admitted_at", TZ, nullable=True),
        sa.Column("left_at", TZ, nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("connected_at", TZ, nullable=True),
        sa.UniqueConstraint("credential_hash", name="uq_sessions_participant_credential_hash"),
    )
    op.create_index("ix_sessions_participant_session", "sessions_participant",
                    ["session_id", "role"])
    op.create_table(
        "sessions_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _session_fk(),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
    )
    op.create_index("ix_sessions_event_session", "sessions_event", ["session_id", "id"])
    op.create_table(
        "sessions_invitation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _session_fk(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_sessions_invitation_token_hash"),
    )
    op.create_table(
        "sessions_seen_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "sessions_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _session_fk(),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("authority", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("media_ok", sa.Boolean(), nullable=True),
        sa.Column("matter_resolved", sa.Boolean(), nullable=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_sessions_feedback_source", "sessions_feedback",
                    ["session_id", "source"], unique=True)
    op.create_index("ix_sessions_feedback_at", "sessions_feedback", ["at"])


def downgrade() -> None:
    for table in ("sessions_feedback", "sessions_seen_token", "sessions_invitation",
                  "sessions_event", "sessions_participant", "sessions_session"):
        op.drop_table(table)
