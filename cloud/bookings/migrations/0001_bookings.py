"""bookings: bookings, booked slots, expert load, change log, room closures, building exceptions

Revision ID: bookings_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "bookings_0001"
down_revision = None
branch_labels = ("bookings",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bookings_booking",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("authority", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("start", TZ, nullable=False),
        sa.Column("end", TZ, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("customer_name", sa.String(100)),
        sa.Column("customer_phone", sa.String(32)),
        sa.Column("customer_email", sa.String(254)),
        sa.Column("cancel_reason", sa.String(200)),
        sa.Column("realised_start", TZ),
        sa.Column("realised_end", TZ),
        sa.Column("moves", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("readiness_checked_at", TZ),
        sa.Column("purged_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_bookings_booking"),
    )
    op.create_index("ix_bookings_booking_room_start", "bookings_booking",
                    ["site", "room", "start"])
    op.create_index("ix_bookings_booking_authority_start", "bookings_booking",
                    ["authority", "start", "end", "status"])
    op.create_index("ix_bookings_booking_end_purged", "bookings_booking", ["end", "purged_at"])
    op.create_table(
        "bookings_slot",
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("start", TZ, nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", "room", "start", name="pk_bookings_slot"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings_booking.id"], ondelete="CASCADE",
                                name="fk_bookings_slot_booking_id_bookings_booking"),
    )
    op.create_index("ix_bookings_slot_booking", "bookings_slot", ["booking_id"])
    op.create_table(
        "bookings_load",
        sa.Column("authority", sa.String(32), nullable=False),
        sa.Column("start", TZ, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("authority", "start", name="pk_bookings_load"),
    )
    op.create_table(
        "bookings_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_bookings_change"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings_booking.id"], ondelete="CASCADE",
                                name="fk_bookings_change_booking_id_bookings_booking"),
    )
    op.create_index("ix_bookings_change_booking", "bookings_change", ["booking_id", "id"])
    op.create_table(
        "bookings_closure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("start", TZ, nullable=False),
        sa.Column("end", TZ, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("incident", sa.String(64)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookings_closure"),
    )
    op.create_index("ix_bookings_closure_room", "bookings_closure", ["site", "room", "start"])
    op.create_table(
        "bookings_building_exception",
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("site", "day", name="pk_bookings_building_exception"),
    )


def downgrade() -> None:
    for table in ("bookings_building_exception", "bookings_closure", "bookings_change",
                  "bookings_load", "bookings_slot", "bookings_booking"):
        op.drop_table(table)
