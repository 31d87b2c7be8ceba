"""The rooms' coming bookings to their agents, a journey across domains: bookings -> the
``probe_schedule`` command (probe) -> the room agent, which probes its link before each.
The agent also learns them from every probe answer; this round tells it within a minute of
a booking being made or moved, so a visit booked a few minutes ahead is probed before too.
The agent ignores retained commands, so each round sends the list again."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud.bookings.service import bookings_between
from cloud.probe.schedule import probe_schedule_command

ACTIVE = ("booked", "checked_in")


def coming_starts(session: Session, *, now: datetime, horizon: timedelta,
                  site: str | None = None) -> dict[tuple[str, str], list[datetime]]:
    """The starts of the visits still to come within ``horizon``, per (site, room)."""
    starts: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for booking in bookings_between(session, start=now, end=now + horizon, site=site):
        if booking.room and booking.status in ACTIVE:
            starts[(booking.site, booking.room)].append(booking.start)
    return starts


def tell_agents(session: Session, bus, *, now: datetime, horizon: timedelta) -> int:
    """Send each room with visits to come its starts; the number of rooms told."""
    starts = coming_starts(session, now=now, horizon=horizon)
    for (site, room), room_starts in starts.items():
        bus.send(*probe_schedule_command(site, room, room_starts))
    return len(starts)
