"""Purge of customers' personal data after retention, and the statistics that must outlive it.

A booking's personal fields (name, phone, e-mail, a video interpreter's e-mail) are set to
NULL a configured time after the visit ended (after the cancellation, for a cancelled booking); the booking itself stays, so utilisation, realised times, cancellations and changes
are counted as before. The messages sent about a booking are notify's to forget: the journey
over both is the purge flow (``flows/purge.py``).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from cloud.bookings.models import CANCELLED, COMPLETED, NO_SHOW, Booking, BookingChange
from cloud.bookings.reminders import message_reference
from cloud.sites.hours import day_window
from etapalvelu.logs import event_log

log = event_log(__name__)
PERSONAL = ("customer_name", "customer_phone", "customer_email", "interpreter_email")
CHUNK = 500  # ids per statement: well inside every driver's limit on bound parameters


def purge_bookings(session: Session, *, now: datetime, retention: timedelta) -> list[str]:
    """Null the personal fields of bookings that ended (or were cancelled) before
    ``now - retention``, in the caller's transaction; return the references of the purged
    bookings' messages."""
    cutoff = now - retention
    # over: the visit ended, or the booking was cancelled (no visit will need the contact)
    cancelled = select(BookingChange.booking_id).where(BookingChange.action == "cancelled",
                                                       BookingChange.at < cutoff)
    over = or_(Booking.end < cutoff, and_(Booking.status == CANCELLED, Booking.id.in_(cancelled)))
    due = list(session.scalars(select(Booking.id).where(over, Booking.purged_at.is_(None))))
    for first in range(0, len(due), CHUNK):
        session.execute(update(Booking).where(Booking.id.in_(due[first:first + CHUNK]))
                        .values({**{f: None for f in PERSONAL}, "purged_at": now}))
    log.info("bookings.purged", cutoff=cutoff.isoformat(), purged=len(due))
    return [message_reference(booking_id) for booking_id in due]


def statistics(session: Session, *, site: str, first: date, last: date) -> dict:
    """What the pilot measures from bookings of a site between two local days: visits by
    status and channel, booked and realised minutes, moves and changes. No personal data."""
    start, end = day_window(first).start, day_window(last).end
    where = (Booking.site == site, Booking.start >= start, Booking.start < end)
    by_status = dict(session.execute(select(Booking.status, func.count()).where(*where)
                                     .group_by(Booking.status)).all())
    by_channel = dict(session.execute(select(Booking.channel, func.count()).where(*where)
                                      .group_by(Booking.channel)).all())
    rows = session.execute(select(Booking.start, Booking.end, Booking.status,
                                  Booking.realised_start, Booking.realised_end, Booking.moves)
                           .where(*where)).all()
    booked = sum((e - s).total_seconds() / 60 for s, e, st, *_ in rows if st != CANCELLED)
    realised = sum((re - rs).total_seconds() / 60 for *_, rs, re, _m in rows
                   if rs is not None and re is not None)
    changes = session.scalar(select(func.count()).select_from(BookingChange).join(
        Booking, Booking.id == BookingChange.booking_id).where(
        *where, BookingChange.action.in_(("moved", "cancelled")))) or 0
    return {"by_status": by_status, "by_channel": by_channel, "booked_minutes": booked,
            "realised_minutes": realised, "moves": sum(r[5] for r in rows),
            "changes": changes, "completed": by_status.get(COMPLETED, 0),
            "no_shows": by_status.get(NO_SHOW, 0), "cancelled": by_status.get(CANCELLED, 0)}
