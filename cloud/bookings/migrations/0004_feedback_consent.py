"""bookings: when the customer agreed to be asked about the visit by text message

Revision ID: bookings_0004_feedback_consent
Revises: bookings_0003_version
"""
import sqlalchemy as sa
from alembic import op

revision = "bookings_0004_feedback_consent"
down_revision = "bookings_0003_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.add_column(sa.Column("feedback_consent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.drop_column("feedback_consent_at")
