"""device twin: status ordered by connection generation, occupancy per room, event retention

Revision ID: twin_0003_presence
Revises: twin_0002_instants
"""
import sqlalchemy as sa
from alembic import op

revision = "twin_0003_presence"
down_revision = "twin_0002_instants"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("twin_agent", sa.Column("gen", sa.BigInteger()))
    op.create_table(
        "twin_occupancy",
        sa.Column("site", sa.String(32)), sa.Column("room", sa.String(32)),
        sa.Column("occupied", sa.Boolean(), nullable=False),
        sa.Column("since", TZ, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site", "room", name="pk_twin_occupancy"),
    )
    op.create_index("ix_twin_event_received_at", "twin_event", ["received_at"])
    _occupancy_from_events()


def _occupancy_from_events() -> None:
    """Each room's newest occupancy event becomes its occupancy row."""
    events = sa.table("twin_event", sa.column("site"), sa.column("room"), sa.column("type"),
                      sa.column("data", sa.JSON()), sa.column("seq"), sa.column("device_ts"),
                      sa.column("received_at", TZ))
    latest = (sa.select(events.c.site, events.c.room, sa.func.max(events.c.seq).label("seq"))
              .where(events.c.type == "occupancy").group_by(events.c.site, events.c.room)
              .subquery())
    rows = op.get_bind().execute(
        sa.select(events.c.site, events.c.room, events.c.data, events.c.seq,
                  events.c.device_ts, events.c.received_at)
        .join(latest, (events.c.site == latest.c.site) & (events.c.room == latest.c.room)
              & (events.c.seq == latest.c.seq))
        .where(events.c.type == "occupancy")).all()
    occupancy = sa.table("twin_occupancy", sa.column("site"), sa.column("room"),
                         sa.column("occupied"), sa.column("since", TZ), sa.column("seq"),
                         sa.column("device_ts"))
    found = {(r.site, r.room): r for r in rows}  # one per room, should a seq repeat
    if found:
        op.bulk_insert(occupancy, [
            {"site": r.site, "room": r.room, "occupied": bool(r.data.get("occupied")),
             "since": r.received_at, "seq": r.seq, "device_ts": r.device_ts}
            for r in found.values()])


def downgrade() -> None:
    op.drop_index("ix_twin_event_received_at", "twin_event")
    op.drop_table("twin_occupancy")
    with op.batch_alter_table("twin_agent") as table:  # SQLite rebuilds the table
        table.drop_column("gen")
