"""The facts statistics are computed from, and the seams of the sources that provide them.

Every fact is free of personal data: codes of sites, rooms, authorities, services, channels
and roles, instants (aware UTC) and numbers. The four sources other domains build (calls,
video sessions, feedback, the advisors' task-time log) are read through one callable each,
``(*, db, start, end) -> rows``; a row is anything with the attributes of its ``Protocol``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Visit:
    """One booking (a walk-in too) as statistics see it. ``start``/``end`` are the booked
    times (after the last move); ``realised_*`` the session's times when a session names the
    booking, else the times the visit was completed with; ``checked_in_at`` when the advisor
    checked the customer in (a walk-in: when it was recorded); ``interpreter_*`` the
    interpreter's language and mode when the visit needed one."""

    site: str
    room: str
    authority: str
    service: str
    channel: str
    status: str
    start: datetime
    end: datetime
    checked_in_at: datetime | None = None
    realised_start: datetime | None = None
    realised_end: datetime | None = None
    moves: int = 0
    interpreter_language: str | None = None  # ISO 639-3, when an interpreter was needed
    interpreter_mode: str | None = None  # video | room


@dataclass(frozen=True)
class Change:
    """A move or cancellation of a booking: the booking's channel and the role of the staff
    member who made it (``advisor``, ``phone_agent``, ``admin``, ...), never their name."""

    site: str
    room: str
    authority: str
    service: str
    channel: str
    action: str  # moved | cancelled
    by: str
    at: datetime


@dataclass(frozen=True)
class Span:
    """A time a room was used without a booking of its own, or occupied by the sensor."""

    site: str
    room: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class IncidentFact:
    """An incident: who handled it, its clock's start (notified, else opened) and its
    milestones; ``stops_room`` when it made the room (or, ``room`` None, the site) unusable."""

    site: str
    room: str | None
    party: str
    category: str
    stops_room: bool
    opened_at: datetime
    clock_start: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime | None
    escalated_at: datetime | None


@dataclass(frozen=True)
class Feedback:
    """One quick feedback, or one text message asking for it (``score`` None, ``asked``;
    ``answered`` once its link was used), labelled with the period it was read for; the
    channel is where the customer was asked: ``terminal`` or ``sms``."""

    period: str
    site: str
    authority: str
    giver: str  # customer | expert
    score: int | None
    channel: str = "terminal"
    asked: bool = False
    answered: bool = False


# --- the seams of the sources other domains provide --------------------------------------------

class CallRow(Protocol):
    """A call-button call (``cloud.calls.service.calls_between``)."""

    site: str
    room: str
    pressed_at: datetime
    acknowledged_at: datetime | None
    escalation_level: int
    cleared_at: datetime | None
    clear_reason: str | None


class SessionRow(Protocol):
    """A video session (``cloud.sessions.service.sessions_between``)."""

    site: str
    room: str
    authority: str
    service: str
    booking_id: int | None
    started_at: datetime
    ended_at: datetime | None


class FeedbackRow(Protocol):
    """One quick feedback (``cloud.sessions.service.feedback_between``); ``giver`` is
    ``customer`` or ``expert``, ``score`` 1-5, ``channel`` ``terminal`` or ``sms``."""

    giver: str
    score: int
    site: str
    authority: str
    channel: str


class FeedbackAskRow(Protocol):
    """A text message asking for feedback (``cloud.sessions.feedback.asks_between``):
    whether its link was answered."""

    site: str
    authority: str
    giver: str
    channel: str
    answered: bool


class TaskEntryRow(Protocol):
    """An entry of the advisors' task-time log (``cloud.consoles.service.task_entries_between``);
    ``advisor_id`` is read by no figure: the time is summed per site and task."""

    site: str
    advisor_id: int
    task: str
    day: date
    minutes: int


class Source(Protocol):
    """A source the statistics read: the rows of ``[start, end)``, in the caller's session."""

    def __call__(self, *, db: Any, start: datetime, end: datetime) -> Iterable[Any]: ...


def nothing(*, db: Any, start: datetime, end: datetime) -> list:
    """The source of a domain not installed: no rows."""
    return []


@dataclass(frozen=True)
class Sources:
    """The sources other domains provide; each defaults to none (no rows)."""

    calls: Source = nothing
    sessions: Source = nothing
    feedback: Source = nothing
    task_entries: Source = nothing
    feedback_asks: Source = nothing
