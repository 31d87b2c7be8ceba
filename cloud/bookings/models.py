"""Tables of the booking system.

A booking holds only what the visit needs: the customer's name (or initials), an optional phone
or e-mail for a reminder, a preferred language and when the customer agreed to be asked about
the visit by text message; when an interpreter is needed, the language, the mode and a video
interpreter's e-mail for the invitation. There is no field for the matter and none for
a personal identity code. Each booked 30-minute slot of a room is a row of ``bookings_slot``
whose primary key is (site, room, start): the database itself refuses a second booking of a slot,
whichever replica or process tries.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant

CHANNELS = ("on_site", "phone_service", "service_number", "walk_in")
LANGUAGES = ("fi", "sv", "en")
BOOKED, CHECKED_IN, COMPLETED, NO_SHOW, CANCELLED = (
    "booked", "checked_in", "completed", "no_show", "cancelled")
STATUSES = (BOOKED, CHECKED_IN, COMPLETED, NO_SHOW, CANCELLED)
LIVE = (BOOKED, CHECKED_IN)  # statuses that hold the room


class Booking(Base):
    """A visit to a room for one authority's service. Times are UTC instants."""

    __tablename__ = "bookings_booking"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(Instant)
    end: Mapped[datetime] = mapped_column(Instant)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=BOOKED)
    language: Mapped[str] = mapped_column(String(2))
    customer_name: Mapped[str | None] = mapped_column(String(100))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    # when the customer agreed to one text message asking about the visit (None: not asked)
    feedback_consent_at: Mapped[datetime | None] = mapped_column(Instant)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    # an interpreter the visit needs (``interpretation``): ISO 639-3 language, video | room,
    # and the e-mail a video interpreter's invitation went to (personal data, purged)
    interpreter_language: Mapped[str | None] = mapped_column(String(3))
    interpreter_mode: Mapped[str | None] = mapped_column(String(8))
    interpreter_email: Mapped[str | None] = mapped_column(String(254))
    realised_start: Mapped[datetime | None] = mapped_column(Instant)
    realised_end: Mapped[datetime | None] = mapped_column(Instant)
    moves: Mapped[int] = mapped_column(SmallInteger, default=0)
    # moved on by every change: a change claims the version it read (see ``changes``)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(Instant)
    created_by: Mapped[str] = mapped_column(String(64))
    readiness_checked_at: Mapped[datetime | None] = mapped_column(Instant)
    purged_at: Mapped[datetime | None] = mapped_column(Instant)

    __table_args__ = (
        Index("ix_bookings_booking_room_start", "site", "room", "start"),
        Index("ix_bookings_booking_authority_start", "authority", "start", "end", "status"),
        Index("ix_bookings_booking_end_purged", "end", "purged_at"),
    )

    @property
    def minutes(self) -> int:
        """The booked length of the visit."""
        return int((self.end - self.start).total_seconds() // 60)


class BookedSlot(Base):
    """One 30-minute slot of a room held by a live booking; the key forbids double booking."""

    __tablename__ = "bookings_slot"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    start: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings_booking.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_bookings_slot_booking", "booking_id"),)


class ExpertLoad(Base):
    """How many bookings of an authority hold each slot, across every room: kept with the slot
    rows in the same transaction, so the expert-capacity check reads a few rows and two
    concurrent bookings cannot both take the last expert (the row is their meeting point)."""

    __tablename__ = "bookings_load"
    authority: Mapped[str] = mapped_column(String(32), primary_key=True)
    start: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class BookingChange(Base):
    """One change of a booking: who, when, what from and to (no personal data)."""

    __tablename__ = "bookings_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings_booking.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(Instant)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_bookings_change_booking", "booking_id", "id"),)


class RoomClosure(Base):
    """A time the room cannot take visits: maintenance, or an incident making it unusable."""

    __tablename__ = "bookings_closure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime] = mapped_column(Instant)
    end: Mapped[datetime] = mapped_column(Instant)
    reason: Mapped[str] = mapped_column(String(200))
    incident: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_bookings_closure_room", "site", "room", "start"),)
