"""A session's end feeds its booking: the realised start (the room and the expert both in)
and end become the booking's realised times, and the visit is completed. A walk-in without a
booking, or a session the room never really started, leaves no booking to complete."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import sessionmaker

from cloud.bookings import service as bookings
from cloud.bookings.models import BOOKED, CHECKED_IN
from cloud.sessions import service as sessions
from cloud.sessions.rules import BY_SLOT_END
from etapalvelu.logs import event_log

log = event_log(__name__)


def session_ended(db_sessions: sessionmaker, *, session_id: int, now: datetime) -> bool:
    """Complete the session's booking with its realised times; False when there is none to
    complete (a walk-in without booking, never started, already completed or cancelled)."""
    with db_sessions() as db:
        video_session = sessions.get(db=db, session_id=session_id)
        if video_session is None or video_session.booking_id is None \
                or video_session.started_at is None or video_session.ended_at is None:
            return False
        booking = bookings.booking_by_id(db, booking_id=video_session.booking_id)
        if booking is None or booking.status not in (BOOKED, CHECKED_IN):
            return False
        try:
            bookings.complete(db, booking=booking, realised_start=video_session.started_at,
                              realised_end=video_session.ended_at, actor="session", now=now)
        except bookings.BookingRefused as refusal:
            log.warning("sessions.booking_not_completed", session=session_id, booking=booking.id,
                        reason=refusal.reason)
            return False
        db.commit()
        return True


def end_overdue_sessions(db_sessions: sessionmaker, *, now: datetime) -> int:
    """End the sessions whose slot and grace are over and complete their bookings; the
    schedule's round, for sessions no API replica was watching at their end."""
    with db_sessions() as db:
        ended = [session_id for session_id in sessions.overdue(db=db, now=now)
                 if sessions.end_session(db=db, session_id=session_id, by=BY_SLOT_END,
                                         now=now)]
        db.commit()
    for session_id in ended:
        session_ended(db_sessions, session_id=session_id, now=now)
    return len(ended)
