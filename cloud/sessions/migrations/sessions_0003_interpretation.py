"""sessions: a booking's interpreter invitation (no session yet) and the interpreter's mark

Revision ID: sessions_0003_interpretation
Revises: sessions_0002_identity
"""
import sqlalchemy as sa
from alembic import op

revision = "sessions_0003_interpretation"
down_revision = "sessions_0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions_invitation") as table:
        table.alter_column("session_id", existing_type=sa.Integer(), nullable=True)
        table.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        table.create_index("ix_sessions_invitation_booking_id", ["booking_id"])
    with op.batch_alter_table("sessions_participant") as table:
        table.add_column(sa.Column("interpreter", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("sessions_participant") as table:
        table.drop_column("interpreter")
    with op.batch_alter_table("sessions_invitation") as table:
        table.drop_index("ix_sessions_invitation_booking_id")
        table.drop_column("booking_id")
        table.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
