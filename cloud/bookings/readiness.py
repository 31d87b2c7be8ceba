"""The booking side of the readiness check before a visit: which live bookings are due for a
check, marked so each is checked once. The journey itself (twin -> rule -> alert) is
the readiness flow (``flows/readiness.py``)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.bookings.models import LIVE, Booking


def take_due_for_readiness(session: Session, *, now: datetime,
                           lead: timedelta = timedelta(minutes=15)) -> list[Booking]:
    """The bookings due for a readiness check, marked checked at ``now`` (the caller
    commits, with whatever the check sends)."""
    due = list(session.scalars(select(Booking).where(
        Booking.status.in_(LIVE), Booking.readiness_checked_at.is_(None),
        Booking.start > now, Booking.start <= now + lead)))
    for booking in due:
        booking.readiness_checked_at = now
    return due
