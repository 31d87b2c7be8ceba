"""incidents: the engine's lease, so only one engine works a database at a time

Revision ID: incidents_0002
Revises: incidents_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "incidents_0002"
down_revision = "incidents_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incident_cursor", sa.Column("holder", sa.String(64)))
    op.add_column("incident_cursor", sa.Column("lease_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("incident_cursor") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("holder")
