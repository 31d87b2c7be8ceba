"""incidents: incidents, audit trail, silences, action links, engine cursor

Revision ID: incidents_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "incidents_0001"
down_revision = None
branch_labels = ("incidents",)
depends_on = "twin_0001"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32)),
        sa.Column("device", sa.String(32)),
        sa.Column("condition", sa.String(140)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(40)),
        sa.Column("summary", sa.String(500)),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("notified_at", TZ),
        sa.Column("due_at", TZ),
        sa.Column("acknowledged_at", TZ),
        sa.Column("resolved_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("escalated_at", TZ),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident"),
    )
    op.create_index("ix_incident_state", "incident", ["state", "site", "room"])
    op.create_index("ix_incident_condition", "incident", ["condition", "state"])
    op.create_index("ix_incident_party_opened", "incident", ["party", "opened_at"])
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE",
                                name="fk_incident_event_incident_id_incident"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_event"),
    )
    op.create_index("ix_incident_event_incident", "incident_event", ["incident_id", "id"])
    op.create_table(
        "incident_silence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32)),
        sa.Column("device", sa.String(32)),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident_silence"),
    )
    op.create_index("ix_incident_silence_ends", "incident_silence", ["ends_at"])
    op.create_table(
        "incident_link",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE",
                                name="fk_incident_link_incident_id_incident"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_incident_link"),
    )
    op.create_table(
        "incident_cursor",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_incident_cursor"),
    )


def downgrade() -> None:
    for table in ("incident_cursor", "incident_link", "incident_silence", "incident_event",
                  "incident"):
        op.drop_table(table)
