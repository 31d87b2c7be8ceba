"""Tables of calls: one row per call, and the changes of calls whose ids are the live cursor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant

PRESSED, ESCALATED, ACKNOWLEDGED, CLEARED = "pressed", "escalated", "acknowledged", "cleared"


class Call(Base):
    """A call for the advisor to come to a room: the customer's (the button) or the expert's
    request to check the customer's identity (``reason``, with the asking ``session_id``).
    Times are the cloud's (receive time of the press), never the device's.
    ``acknowledged_by`` is the staff id of who took it; no customer data. At most one call
    per room is open (a partial unique index)."""

    __tablename__ = "calls_call"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    press_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    pressed_at: Mapped[datetime] = mapped_column(Instant)
    escalation_level: Mapped[int] = mapped_column(Integer, default=1)
    escalated_at: Mapped[datetime | None] = mapped_column(Instant)
    sms_at: Mapped[datetime | None] = mapped_column(Instant)
    acknowledged_at: Mapped[datetime | None] = mapped_column(Instant)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
    arrived_at: Mapped[datetime | None] = mapped_column(Instant)
    cleared_at: Mapped[datetime | None] = mapped_column(Instant)
    clear_reason: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16), default="customer",
                                        server_default="customer")
    session_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("uq_calls_call_open_room", "site", "room", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
        Index("ix_calls_call_pressed_at", "pressed_at"),
    )


class CallChange(Base):
    """One change of a call (pressed, escalated, acknowledged, cleared). Its id orders the
    changes: the cursor of the live stream (``Last-Event-ID``)."""

    __tablename__ = "calls_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls_call.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (Index("ix_calls_change_call", "call_id"),)
