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
                 now: datetime, video: str | None = None) -> str:
    """What the day list says of a visit: ``due`` until the customer is checked in;
    ``in_session`` while its video session is live (room and expert both in), or, for a
    visit without a video session on the platform, while a checked-in visit runs and its
    room is occupied; ``done``, ``no_show`` and ``cancelled`` as booked. ``video`` is the
    session's state (``not_started``, ``live``, ``ended``) or None."""
    if booking_status == "completed":
        return DONE
    if booking_status in (NO_SHOW, CANCELLED):
        return booking_status
    if video == "live":
        return IN_SESSION  # whether or not the desk checked the customer in first
    if booking_status == "checked_in":
        in_room = video is None and occupied and start <= now < end
        return IN_SESSION if in_room else CHECKED_IN
    return DUE


def terminal_missing(status: str, *, start: datetime, now: datetime,
                     terminal_joined: bool | None) -> bool:
    """Whether the advisor should look: the visit's slot has begun, its session is open and
    the room terminal never joined it (the customer may not have come, or the terminal is
    down). None: the visit has no video session."""
    return (terminal_joined is False and status in (DUE, CHECKED_IN) and now >= start)


def arrival(status: str) -> str:
    """The customer's arrival as the expert sees it, from the visit's status: ``due``,
    ``checked_in`` or ``in_room`` (or the visit's end: ``done``, ``no_show``,
    ``cancelled``)."""
    return "in_room" if status == IN_SESSION else status


def clamp_minutes(minutes: int) -> int:
    """Minutes of one task in one day, kept within a day."""
    return max(0, min(MAX_DAY_MINUTES, minutes))
