"""notify: outbox messages and send attempts

Revision ID: notify_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "notify_0001"
down_revision = None
branch_labels = ("notify",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_message",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claimed_until", TZ),
        sa.Column("sent_at", TZ),
        sa.Column("last_error", sa.String(300)),
        sa.PrimaryKeyConstraint("id", name="pk_notify_message"),
        sa.UniqueConstraint("idempotency_key", name="uq_notify_message_idempotency_key"),
    )
    op.create_index("ix_notify_message_due", "notify_message", ["state", "next_attempt_at"])
    op.create_index("ix_notify_message_reference", "notify_message", ["reference"])
    op.create_table(
        "notify_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.ForeignKeyConstraint(["message_id"], ["notify_message.id"], ondelete="CASCADE",
                                name="fk_notify_attempt_message_id_notify_message"),
        sa.PrimaryKeyConstraint("id", name="pk_notify_attempt"),
    )
    op.create_index("ix_notify_attempt_message", "notify_attempt", ["message_id"])


def downgrade() -> None:
    op.drop_table("notify_attempt")
    op.drop_table("notify_message")
