"""Confirmations and day-before reminders of bookings, sent through the shared notify outbox.

What to send and when is pure (``reminder_due_at``, ``due_reminders``); ``confirm`` and
``send_due_reminders`` write outbox messages in the caller's transaction. The message context
holds the place, time and service only: the recipient address is the one personal datum, and
it is the outbox's to keep until sent.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cloud import formats
from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.hours import HELSINKI
from cloud.bookings.models import BOOKED, Booking
from cloud.notify import enqueue
from cloud.sites.hours import site_zone

if TYPE_CHECKING:
    from cloud.bookings.rules import BookingRules

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


def _recipient(booking: Booking) -> tuple[str, str] | None:
    if booking.customer_phone:
        return "sms", booking.customer_phone
    if booking.customer_email:
        return "email", booking.customer_email
    return None


def _context(rules: BookingRules, booking: Booking) -> dict:
    lang = booking.language
    site = rules.registry.sites[booking.site]
    zone = site_zone(rules.registry, booking.site)
    return {"date": formats.day_text(booking.start, zone),
            "time": formats.clock(booking.start, zone),
            "place": getattr(site.name, lang),
            "service": getattr(rules.catalogue.services[booking.service].name, lang)}


def _send(session: Session, rules: BookingRules, booking: Booking, template: str,
          now: datetime) -> bool:
    recipient = _recipient(booking)
    if recipient is None:
        return False
    channel, to = recipient
    enqueue(session, channel=channel, to=to, template=template, language=booking.language,
            context=_context(rules, booking), reference=message_reference(booking.id), now=now,
            idempotency_key=f"booking:{booking.id}:{template}:{booking.start.isoformat()}")
    return True


def confirm(session: Session, rules: BookingRules, *, booking: Booking, now: datetime) -> bool:
    """Queue the confirmation of a new or moved booking (False: no contact was given)."""
    return _send(session, rules, booking, "booking_confirmation", now)


def send_due_reminders(session: Session, rules: BookingRules, *, now: datetime,
                       lead: timedelta | None = None) -> int:
    """Queue every reminder due at ``now`` (at most once per booking and time) in the caller's
    transaction; returns how many were queued."""
    horizon = max(timedelta(days=2), (lead or timedelta(0)) + timedelta(days=1))
    candidates = session.scalars(select(Booking).where(
        Booking.status == BOOKED, Booking.start > now, Booking.start < now + horizon,
        or_(Booking.customer_phone.is_not(None), Booking.customer_email.is_not(None))))
    sent = sum(_send(session, rules, b, "booking_reminder", now)
               for b in due_reminders(candidates, now, lead))
    return sent
