"""bookings: the interpreter a visit needs (language, mode, a video interpreter's e-mail)

Revision ID: bookings_0005_interpretation
Revises: bookings_0004_feedback_consent
"""
import sqlalchemy as sa
from alembic import op

revision = "bookings_0005_interpretation"
down_revision = "bookings_0004_feedback_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.add_column(sa.Column("interpreter_language", sa.String(3), nullable=True))
        batch.add_column(sa.Column("interpreter_mode", sa.String(8), nullable=True))
        batch.add_column(sa.Column("interpreter_email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.drop_column("interpreter_email")
        batch.drop_column("interpreter_mode")
        batch.drop_column("interpreter_language")
