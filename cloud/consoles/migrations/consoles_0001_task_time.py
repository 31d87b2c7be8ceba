"""consoles: the advisors' task-time log

Revision ID: consoles_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "consoles_0001"
down_revision = None
branch_labels = ("consoles",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consoles_task_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consoles_task_entry"),
        sa.UniqueConstraint("site", "advisor_id", "day", "task",
                            name="uq_consoles_task_entry_day_task"),
    )


def downgrade() -> None:
    op.drop_table("consoles_task_entry")
