"""bookings: a version on each booking, claimed by every change so two cannot both win

Revision ID: bookings_0003_version
Revises: bookings_0002_instants
"""
import sqlalchemy as sa
from alembic import op

revision = "bookings_0003_version"
down_revision = "bookings_0002_instants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("bookings_booking") as batch:
        batch.drop_column("version")
