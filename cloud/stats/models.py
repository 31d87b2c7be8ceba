"""Tables of the statistics domain: the facts statistics keep because their source does not.

The twin's event log keeps occupancy changes only for ``twin_event_retention_days``; each
finished local day's occupied times of every room are kept here (no personal data: a room and
times), so the occupancy figures of a month stay the same after that retention has passed.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class OccupancyDay(Base):
    """The occupied times of one room on one local day (Europe/Helsinki), as
    ``[[start, end], ...]`` ISO instants in UTC; an empty list: never occupied that day."""

    __tablename__ = "stats_occupancy_day"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    spans: Mapped[list] = mapped_column(JSON)
    kept_at: Mapped[datetime] = mapped_column(Instant)
