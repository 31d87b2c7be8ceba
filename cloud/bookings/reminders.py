"""When a booking's reminder is due (pure: ``reminder_due_at``, ``due_reminders``) and which
bookings it is due for now; the messages themselves (confirmations and reminders through the
notify outbox) are the journey ``cloud/flows/reminders.py``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cloud.bookings.hours import HELSINKI
from cloud.bookings.models import BOOKED, Booking

REMINDER_TIME = time(12, 0)  # local noon of the day before the visit

def reminder_due_at(start: datetime, lead: timedelta | None = None) -> datetime:
    """When the reminder of a visit starting at ``start`` is due: ``lead`` before it when
    set, else local noon the day before."""
    if lead is not None:
        return start - lead
    day_before = start.astimezone(HELSINKI).date() - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_TIME, HELSINKI)


def due_reminders(bookings: Iterable[Booking], now: datetime,
                  lead: timedelta | None = None) -> list[Booking]:
    """The bookings whose reminder should go out at ``now``: still booked, with a contact,
    not yet started, past their due time, and booked before it (else the confirmation is news
    enough)."""
    return [b for b in bookings
            if b.status == BOOKED and (b.customer_phone or b.customer_email)
            and reminder_due_at(b.start, lead) <= now < b.start
            and b.created_at < reminder_due_at(b.start, lead)]


def message_reference(booking_id: int) -> str:
    """The reference of every message about booking ``booking_id`` in the notify outbox."""
    return f"booking:{booking_id}"


def bookings_due_a_reminder(session: Session, *, now: datetime,
                            lead: timedelta | None = None) -> list[Booking]:
    """The bookings whose reminder is due at ``now`` (``due_reminders`` over the bookings
    that could be: booked, with a contact, starting within the coming days)."""
    horizon = max(timedelta(days=2), (lead or timedelta(0)) + timedelta(days=1))
    candidates = session.scalars(select(Booking).where(
        Booking.status == BOOKED, Booking.start > now, Booking.start < now + horizon,
        or_(Booking.customer_phone.is_not(None), Booking.customer_email.is_not(None))))
    return due_reminders(candidates, now, lead)
