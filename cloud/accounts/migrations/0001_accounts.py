"""accounts: staff, login sessions, audit log

Revision ID: accounts_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "accounts_0001"
down_revision = None
branch_labels = ("accounts",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts_staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organisation", sa.String(32)),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("oidc_issuer", sa.String(200)),
        sa.Column("oidc_subject", sa.String(200)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts_staff"),
        sa.UniqueConstraint("username", name="uq_accounts_staff_username"),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_accounts_staff_oidc"),
    )
    op.create_table(
        "accounts_session",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_accounts_session"),
        sa.ForeignKeyConstraint(["staff_id"], ["accounts_staff.id"], ondelete="CASCADE",
                                name="fk_accounts_session_staff_id_accounts_staff"),
    )
    op.create_index("ix_accounts_session_staff", "accounts_session", ["staff_id"])
    op.create_table(
        "accounts_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("resource", sa.String(120)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("reason", sa.String(120)),
        sa.PrimaryKeyConstraint("id", name="pk_accounts_audit"),
    )
    op.create_index("ix_accounts_audit_actor_action", "accounts_audit", ["actor", "action", "at"])
    op.create_index("ix_accounts_audit_client_action", "accounts_audit",
                    ["client", "action", "at"])


def downgrade() -> None:
    for table in ("accounts_audit", "accounts_session", "accounts_staff"):
        op.drop_table(table)
