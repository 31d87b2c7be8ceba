"""A booking's messages to its customer, a journey across domains: a booking made or moved
(bookings) -> its confirmation; the day before the visit, or ``reminder_lead`` ahead -> its
reminder (the schedule's round); both queued in the notify outbox, which sends and retries.

Whoever books or moves a visit (the booking API, the advisor's console) confirms it here in
the same transaction; the caller commits. A message's context holds the place, time and
service only: the recipient address is the one personal datum, and it is the outbox's to keep
until sent (the purge blanks it after retention, ``flows.purge``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud import formats
from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.models import Booking
from cloud.bookings.reminders import bookings_due_a_reminder, message_reference
from cloud.bookings.rules import BookingRules
from cloud.notify import enqueue
from cloud.sites.hours import site_zone


def confirm(session: Session, rules: BookingRules, *, booking: Booking, now: datetime) -> bool:
    """Queue the confirmation of a new or moved booking (False: no contact was given)."""
    return _send(session, rules, booking, "booking_confirmation", now)


def send_due_reminders(session: Session, rules: BookingRules, *, now: datetime,
                       lead: timedelta | None = None) -> int:
    """Queue every reminder due at ``now`` (at most once per booking and time) in the caller's
    transaction; returns how many were queued."""
    return sum(_send(session, rules, booking, "booking_reminder", now)
               for booking in bookings_due_a_reminder(session, now=now, lead=lead))


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
