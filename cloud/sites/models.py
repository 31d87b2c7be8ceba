"""Tables of the site domain: the building's dated exceptions to its weekly hours.

The table keeps the name it was created with (``bookings_building_exception``): advisors set
exceptions through the booking API, but bookings, incidents and readiness all read them.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base


class BuildingException(Base):
    """Dated building hours of a site (local minutes); no spans means the building is closed."""

    __tablename__ = "bookings_building_exception"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    spans: Mapped[list] = mapped_column(JSON)  # [[start_minute, end_minute], ...]
    reason: Mapped[str] = mapped_column(String(200))
