"""Purge of customers' personal data after retention, and the statistics that must outlive it.

A booking's personal fields (name, phone, e-mail) are set to NULL a configured time after the
visit ended (after the cancellation, for a cancelled booking), and so are the addresses of its messages in the notify outbox; the booking itself
stays, so utilisation, realised times, cancellations and changes are counted as before.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from cloud.bookings.hours import HELSINKI, local_instant
from cloud.bookings.models import CANCELLED, COMPLETED, NO_SHOW, Booking, BookingChange
from cloud.notify.models import FAILED, PENDING, OutboxMessage

log = logging.getLogger(__name__)
PERSONAL = ("customer_name", "customer_phone", "customer_email")


def purge_personal_data(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Null the personal fields of bookings that ended before ``now - retention`` (commits);
    returns how many bookings were purged."""
    cutoff = now - retention
    # over: the visit ended, or the booking was cancelled (no visit will need the contact)
    cancelled = select(BookingChange.booking_id).where(BookingChange.action == "cancelled",
                                                       BookingChange.at < cutoff)
    over = or_(Booking.end < cutoff,
               and_(Booking.status == CANCELLED, Booking.id.in_(cancelled)))
    due = [f"booking:{booking_id}" for booking_id in session.scalars(
        select(Booking.id).where(over, Booking.purged_at.is_(None)))]
    result = session.execute(
        update(Booking).where(over, Booking.purged_at.is_(None))
        .values({**{f: None for f in PERSONAL}, "purged_at": now}))
    _purge_messages(session, due)
    session.commit()
    log.info("bookings purge cutoff=%s purged=%s", cutoff.isoformat(), result.rowcount)
    return result.rowcount


def _purge_messages(session: Session, references: list[str]) -> None:
    """The notify outbox keeps a confirmation's or reminder's address: blank it too, and give up
    any message of the booking still waiting (it is long out of date)."""
    for start in range(0, len(references), 500):
        chunk = references[start:start + 500]
        session.execute(update(OutboxMessage).where(
            OutboxMessage.reference.in_(chunk), OutboxMessage.state == PENDING)
            .values(state=FAILED, last_error="personal data purged"))
        session.execute(update(OutboxMessage).where(OutboxMessage.reference.in_(chunk))
                        .values(recipient="", context={}))


def statistics(session: Session, *, site: str, first: date, last: date) -> dict:
    """What the pilot measures from bookings of a site between two local days: visits by
    status and channel, booked and realised minutes, moves and changes. No personal data."""
    start, end = local_instant(first, 0, HELSINKI), local_instant(last, 1440, HELSINKI)
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
