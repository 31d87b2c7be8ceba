"""The booking system's service functions, the one place other domains and the flows call.

The work is split by concern: ``rules`` (refusals, the customer, what the rules read),
``availability`` (the layers a visit must pass, free visits) and ``changes`` (booking, moving,
cancelling, the visit's life); this module adds the reads and the room closures (a
building's dated exceptions are the site domain's: ``cloud.sites.service``).
Every function is keyword-only after the session (and rules), takes ``now`` where time matters
and writes in the caller's transaction: the caller commits.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.bookings.availability import FreeVisit, availability, site_hours
from cloud.bookings.changes import (
    cancel_booking,
    check_in,
    complete,
    create_booking,
    mark_no_show,
    move_booking,
    walk_in,
)
from cloud.bookings.interpretation import Interpreter
from cloud.bookings.models import (
    CANCELLED,
    COMPLETED,
    LIVE,
    Booking,
    BookingChange,
    RoomClosure,
)
from cloud.bookings.rules import BookingRefused, BookingRules, Customer, refused

__all__ = ["BookingRefused", "BookingRules", "Customer", "FreeVisit", "affected_bookings",
           "availability", "booking_by_id", "bookings_between", "cancel_booking",
           "changes_between", "changes_of", "check_in", "close_room", "complete",
           "create_booking", "end_incident_closures", "end_room_closure",
           "ended_with_feedback_consent", "mark_no_show", "move_booking", "need_interpreter",
           "refused",
           "site_hours", "walk_in"]


# --- interpretation -------------------------------------------------------------------------

def need_interpreter(session: Session, *, booking: Booking, interpreter: Interpreter | None
                     ) -> Booking:
    """Record the interpreter the visit needs (None: none), in the caller's transaction; the
    invitation of a video interpreter is the flow's (``flows.interpretation``)."""
    booking.interpreter_language = interpreter.language if interpreter else None
    booking.interpreter_mode = interpreter.mode if interpreter else None
    booking.interpreter_email = interpreter.email if interpreter else None
    session.flush()
    return booking


# --- reading bookings -----------------------------------------------------------------------

def bookings_between(session: Session, *, start: datetime, end: datetime,
                     site: str | None = None, authority: str | None = None,
                     include_cancelled: bool = False) -> list[Booking]:
    """Bookings starting in [start, end), optionally of one site or authority."""
    query = select(Booking).where(Booking.start >= start, Booking.start < end)
    if site is not None:
        query = query.where(Booking.site == site)
    if authority is not None:
        query = query.where(Booking.authority == authority)
    if not include_cancelled:
        query = query.where(Booking.status != CANCELLED)
    return list(session.scalars(query.order_by(Booking.start, Booking.room)))


def booking_by_id(session: Session, *, booking_id: int) -> Booking | None:
    """One booking, or None when there is none of that id."""
    return session.get(Booking, booking_id)


def ended_with_feedback_consent(session: Session, *, ended_from: datetime,
                                ended_before: datetime) -> list[Booking]:
    """The visits that ended (completed, by their session or the advisor) in
    ``[ended_from, ended_before)`` whose customer agreed to be asked about them by text
    message and whose phone is still kept."""
    return list(session.scalars(select(Booking).where(
        Booking.status == COMPLETED, Booking.feedback_consent_at.is_not(None),
        Booking.customer_phone.is_not(None), Booking.purged_at.is_(None),
        Booking.realised_end >= ended_from, Booking.realised_end < ended_before)
        .order_by(Booking.realised_end, Booking.id)))


def changes_between(session: Session, *, start: datetime, end: datetime,
                    actions: tuple[str, ...]) -> list:
    """The changes of kinds ``actions`` made in [start, end), each with its booking, oldest
    first (statistics read them)."""
    return list(session.execute(select(BookingChange, Booking).join(
        Booking, Booking.id == BookingChange.booking_id).where(
        BookingChange.at >= start, BookingChange.at < end, BookingChange.action.in_(actions))
        .order_by(BookingChange.at, BookingChange.id)).all())


def changes_of(session: Session, *, booking_id: int) -> list[BookingChange]:
    """The change log of one booking, oldest first."""
    return list(session.scalars(select(BookingChange).where(
        BookingChange.booking_id == booking_id).order_by(BookingChange.id)))


def affected_bookings(session: Session, *, site: str, room: str, start: datetime,
                      end: datetime | None = None) -> list[Booking]:
    """Live bookings of a room that overlap [start, end) (end None: open-ended), e.g. while
    an incident makes the room unusable. The incident engine lists them on the incident."""
    query = select(Booking).where(Booking.site == site, Booking.room == room,
                                  Booking.status.in_(LIVE), Booking.end > start)
    if end is not None:
        query = query.where(Booking.start < end)
    return list(session.scalars(query.order_by(Booking.start)))


# --- room closures and building exceptions --------------------------------------------------

def close_room(session: Session, rules: BookingRules, *, site: str, room: str, start: datetime,
               end: datetime, reason: str, actor: str, incident: str | None = None
               ) -> RoomClosure:
    """Take a room out of use (maintenance, an incident); existing bookings stay and are
    listed by ``affected_bookings`` for the advisor to move."""
    if site not in rules.registry.sites or room not in rules.registry.sites[site].rooms:
        raise refused("unknown_room", f"no room {room!r} at {site}")
    if not start < end:
        raise refused("bad_times", "a closure ends after it starts")
    closure = RoomClosure(site=site, room=room, start=start, end=end, reason=reason,
                          incident=incident, created_by=actor)
    session.add(closure)
    session.flush()
    return closure


def end_incident_closures(session: Session, *, incident: str, end: datetime) -> int:
    """Reopen a room closed for ``incident`` at ``end`` (the incident was resolved): closures
    of the incident that would last longer end then; returns how many changed."""
    rows = session.scalars(select(RoomClosure).where(RoomClosure.incident == incident,
                                                     RoomClosure.end > end)).all()
    for row in rows:
        row.end = max(end, row.start)
    session.flush()
    return len(rows)


def end_room_closure(session: Session, *, site: str, room: str, closure_id: int,
                     now: datetime) -> bool:
    """End a closure of the room now, or remove it when it has not begun; False when the
    room has no such closure."""
    row = session.get(RoomClosure, closure_id)
    if row is None or (row.site, row.room) != (site, room):
        return False
    if row.start >= now:
        session.delete(row)
    else:
        row.end = min(row.end, now)
    session.flush()
    return True
