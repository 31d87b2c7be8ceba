"""The booking side of the readiness check before a visit: which live bookings are due for a
check, marked so each is checked once. The journey itself (twin -> rule -> alert) is
the readiness flow (``flows/readiness.py``)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.bookings.models import LIVE, Booking


def due_for_check(bookings: Iterable[Booking], now: datetime, lead: timedelta) -> list[Booking]:
    """Live bookings starting within ``lead`` of ``now`` that have not been checked yet."""
    return [b for b in bookings if b.status in LIVE and b.readiness_checked_at is None
            and b.start - lead <= now < b.start]


def take_due_for_readiness(session: Session, *, now: datetime,
                           lead: timedelta = timedelta(minutes=15)) -> list[Booking]:
    """The bookings due for a readiness check, marked checked at ``now`` (the caller
    commits, with whatever the check sends)."""
    candidates = session.scalars(select(Booking).where(
        Booking.status.in_(LIVE), Booking.readiness_checked_at.is_(None),
        Booking.start > now, Booking.start <= now + lead))
    due = due_for_check(candidates, now, lead)
    for booking in due:
        booking.readiness_checked_at = now
    return due
