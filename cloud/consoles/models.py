"""Tables of the consoles: the advisor's task-time log.

One row per (site, advisor, local day, task) holds the minutes the advisor spent on the task
that day; a tap adds to it in one statement, so two taps from two tabs both count."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class TaskEntry(Base):
    """Minutes an advisor spent on one task at one site on one local (Helsinki) day."""

    __tablename__ = "consoles_task_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    advisor_id: Mapped[int] = mapped_column(Integer)  # the staff id: no name kept here
    day: Mapped[date] = mapped_column(Date)
    task: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (UniqueConstraint("site", "advisor_id", "day", "task",
                                       name="uq_consoles_task_entry_day_task"),)
