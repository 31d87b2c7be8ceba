"""Pure rules of the consoles: the advisor's task list, a visit's status on the day list, the
customer's arrival as the expert sees it. No I/O; each takes ``now`` where time matters."""
from __future__ import annotations

from datetime import datetime

# The advisors' task list of the pilot (DOMAIN.md), in the order of a visit; the keys are
# what the log and the exports store.
TASKS = ("meeting", "bookings", "session_start", "identification", "equipment", "leaving",
         "documents", "guiding", "safety")
STEPS = (5, 15)  # the minutes a tap adds
MAX_DAY_MINUTES = 24 * 60

DUE, CHECKED_IN, IN_SESSION, DONE, NO_SHOW, CANCELLED = (
    "due", "checked_in", "in_session", "done", "no_show", "cancelled")


def visit_status(booking_status: str, *, start: datetime, end: datetime, occupied: bool,
                 now: datetime) -> str:
    """What the day list says of a visit: ``due`` until the customer is checked in;
    ``in_session`` while a checked-in visit runs and its room is occupied; ``done``,
    ``no_show`` and ``cancelled`` as booked."""
    if booking_status == "completed":
        return DONE
    if booking_status in (NO_SHOW, CANCELLED):
        return booking_status
    if booking_status == "checked_in":
        return IN_SESSION if occupied and start <= now < end else CHECKED_IN
    return DUE


def arrival(booking_status: str, *, start: datetime, end: datetime, occupied: bool,
            now: datetime) -> str:
    """The customer's arrival as the expert sees it: ``due``, ``checked_in`` or ``in_room``
    (or the visit's end: ``done``, ``no_show``, ``cancelled``)."""
    status = visit_status(booking_status, start=start, end=end, occupied=occupied, now=now)
    return "in_room" if status == IN_SESSION else status


def clamp_minutes(minutes: int) -> int:
    """Minutes of one task in one day, kept within a day."""
    return max(0, min(MAX_DAY_MINUTES, minutes))
