"""accounts: login attempts per username and client, counted atomically

Revision ID: accounts_0003_login_throttle
Revises: accounts_0002_instants
"""
import sqlalchemy as sa
from alembic import op

revision = "accounts_0003_login_throttle"
down_revision = "accounts_0002_instants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_login_throttle",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_accounts_login_throttle"),
    )


def downgrade() -> None:
    op.drop_table("accounts_login_throttle")
