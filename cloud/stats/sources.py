"""Reading the facts of a time range through the other domains' service functions.

Bookings (with their change log), incidents, the twin's occupancy log and the site's opening
hours are this project's; calls, video sessions, feedback and the task-time log come through
the ``Sources`` seams (``cloud.stats.facts``). Every function reads in the caller's session
and returns personal-data-free facts.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud.accounts.service import roles_of
from cloud.bookings.service import bookings_between, changes_between
from cloud.incidents.service import incidents_between
from cloud.stats.facts import Change, IncidentFact, Sources, Span, Visit
from cloud.twin.service import occupancy_events_between

CHECK_IN_AHEAD = timedelta(hours=2)  # check-in opens two hours before the visit
LOOK_BACK = timedelta(days=7)  # how far back a room's occupancy at a range's start is sought
ADMIN_TOKEN = "admin-token"  # the bootstrap token's principal (cloud.accounts.deps)


def visits_between(session: Session, *, start: datetime, end: datetime,
                   sessions: Iterable = ()) -> list[Visit]:
    """The bookings whose (last) booked start is in ``[start, end)``, cancelled ones too; a
    video session that names a booking gives it its realised times."""
    by_booking = {s.booking_id: s for s in sessions if s.booking_id is not None}
    checked_in = {b.id: c.at for c, b in changes_between(
        session, start=start - CHECK_IN_AHEAD, end=end, actions=("checked_in",))}
    out = []
    for b in bookings_between(session, start=start, end=end, include_cancelled=True):
        realised = by_booking.get(b.id)
        begun, ended = ((realised.started_at, realised.ended_at) if realised
                        else (b.realised_start, b.realised_end))
        arrived = b.created_at if b.channel == "walk_in" else checked_in.get(b.id)
        out.append(Visit(b.site, b.room, b.authority, b.service, b.channel, b.status, b.start,
                         b.end, arrived, begun, ended, b.moves, b.interpreter_language,
                         b.interpreter_mode))
    return out


def unbooked_sessions(sessions: Iterable) -> list[Span]:
    """The finished video sessions that name no booking: use of a room without a booking."""
    return [Span(s.site, s.room, s.started_at, s.ended_at) for s in sessions
            if s.booking_id is None and s.ended_at is not None]


def changes_made_between(session: Session, *, start: datetime, end: datetime) -> list[Change]:
    """Moves and cancellations made in ``[start, end)``, by the role of who made them."""
    rows = changes_between(session, start=start, end=end, actions=("moved", "cancelled"))
    roles = roles_of(session, usernames=[c.actor for c, _ in rows])
    roles[ADMIN_TOKEN] = "admin"
    return [Change(b.site, (c.after or {}).get("room", b.room), b.authority, b.service,
                   b.channel, c.action, roles.get(c.actor, "unknown"), c.at) for c, b in rows]


def incident_facts(session: Session, *, start: datetime, end: datetime) -> list[IncidentFact]:
    """The incidents open at some time in ``[start, end)``."""
    return [IncidentFact(i.site, i.room, i.party, i.category, i.severity == "critical",
                         i.opened_at, i.notified_at or i.opened_at, i.acknowledged_at,
                         i.resolved_at, i.due_at, i.escalated_at)
            for i in incidents_between(session, start=start, end=end)]


def occupied_from_log(session: Session, *, start: datetime, end: datetime) -> list[Span]:
    """The rooms' occupied times in ``[start, end)`` from the twin's event log (a room
    occupied at ``start`` by its last change in the week before)."""
    events = occupancy_events_between(db=session, start=start - LOOK_BACK, end=end)
    return occupied_spans(events, start=start, end=end)


def occupied_spans(events: Iterable[tuple[str, str, bool, datetime]], *, start: datetime,
                   end: datetime) -> list[Span]:
    """Occupied spans clipped to ``[start, end)`` from ordered ``(site, room, occupied, at)``
    changes; a room still occupied at ``end`` is counted to ``end``."""
    since: dict[tuple[str, str], datetime | None] = {}
    out = []
    for site, room, occupied, at in events:
        began = since.get((site, room))
        if occupied and began is None:
            since[site, room] = at
        elif not occupied and began is not None:
            since[site, room] = None
            if at > start:
                out.append(Span(site, room, max(began, start), min(at, end)))
    out += [Span(site, room, max(began, start), end) for (site, room), began in since.items()
            if began is not None and began < end]
    return out


def installed_sources() -> Sources:
    """The sources of the installed domains: calls (``cloud.calls.service.calls_between``),
    video sessions and feedback (``cloud.sessions.service.sessions_between``,
    ``feedback_between``, the text messages asking for it ``cloud.sessions.feedback.asks_between``), the task-time log (``cloud.consoles.service.task_entries_between``);
    one not installed reads no rows."""
    from cloud.calls.service import calls_between
    from cloud.consoles.service import task_entries_between
    from cloud.sessions.feedback import asks_between
    from cloud.sessions.service import feedback_between, sessions_between

    return Sources(calls=calls_between, sessions=sessions_between, feedback=feedback_between,
                   task_entries=task_entries_between, feedback_asks=asks_between)
