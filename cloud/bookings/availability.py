"""Free visits: the layers a visit must pass (hours, building exceptions, room closures, other
bookings, the authority's expert load) read from the database, and the rooms that fit."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from cloud.bookings.hours import (
    SLOT,
    Interval,
    Layers,
    OpeningHours,
    free_visits_by_length,
    local_instant,
    refusal,
)
from cloud.bookings.models import BookedSlot, Booking, ExpertLoad, RoomClosure
from cloud.bookings.rules import BookingRules, refused
from cloud.db import stored_instant
from cloud.sites import service as sites


@dataclass(slots=True)
class FreeVisit:
    """A visit that can be booked now."""

    room: str
    start: datetime
    end: datetime


# --- reading the layers ---------------------------------------------------------------------
# The statements of the availability path are built once, with bound parameters: building a
# select costs more than running it on a small index range.

_closure = RoomClosure.__table__.c
_slot, _load = BookedSlot.__table__.c, ExpertLoad.__table__.c
_CLOSURES = select(_closure.room, _closure.start, _closure.end).where(
    _closure.site == bindparam("site"), _closure.start < bindparam("end"),
    _closure.end > bindparam("start"))
_SLOTS = select(_slot.room, type_coerce(_slot.start, String), _slot.booking_id).where(
    _slot.site == bindparam("site"), _slot.start >= bindparam("start"),
    _slot.start < bindparam("end"))
_LOAD = select(type_coerce(_load.start, String), _load.count).where(
    _load.authority == bindparam("authority"), _load.start >= bindparam("start"),
    _load.start < bindparam("end"))


def site_hours(session: Session, rules: BookingRules, *, site: str, first: date, last: date
               ) -> OpeningHours:
    """The site's opening hours with the dated building exceptions between the two days."""
    return sites.opening_hours(session, registry=rules.registry, site=site, first=first,
                               last=last, holidays=rules.holidays)


def _window(hours: OpeningHours, first: date, last: date) -> Interval:
    return Interval(local_instant(first, 0, hours.tz), local_instant(last, 1440, hours.tz))


def _closures(session: Session, site: str, window: Interval) -> dict[str, list[Interval]]:
    rows = session.connection().execute(_CLOSURES, {"site": site, "start": window.start,
                                                    "end": window.end})
    out: dict[str, list[Interval]] = {}
    for room, start, end in rows:
        out.setdefault(room, []).append(Interval(start, end))
    return out


def _room_bookings(session: Session, site: str, window: Interval, exclude: int | None
                   ) -> dict[str, list[Interval]]:
    rows = session.connection().execute(_SLOTS, {"site": site, "start": window.start - SLOT,
                                                 "end": window.end}).all()
    out: dict[str, list[Interval]] = {}
    for room, raw, booking_id in rows:
        if booking_id != exclude:
            start = stored_instant(raw)  # read raw: SQLAlchemy's parser is slow
            out.setdefault(room, []).append(Interval(start, start + SLOT))
    return out


def _authority_load(session: Session, authority: str, window: Interval,
                    exclude: int | None) -> dict[datetime, int]:
    """How many of the authority's bookings (every site) hold each slot of ``window``, less
    the booking ``exclude`` (one being moved)."""
    rows = session.connection().execute(_LOAD, {"authority": authority, "start": window.start,
                                                "end": window.end}).all()
    load = {stored_instant(raw): count for raw, count in rows}
    if exclude is not None:
        moving = session.get(Booking, exclude)
        for at in Interval(moving.start, moving.end).slot_starts():
            if at in load:
                load[at] -= 1
    return load


# --- availability ---------------------------------------------------------------------------

def availability(session: Session, rules: BookingRules, *, site: str, service: str,
                 first: date, last: date, now: datetime, minutes: int | None = None
                 ) -> list[FreeVisit]:
    """Every bookable visit of ``service`` at ``site`` between the two local days."""
    offered = rules.service(site, service)
    lengths = [minutes] if minutes else list(offered.lengths)
    if set(lengths) - set(offered.lengths):
        raise refused("bad_length", f"{service} allows visits of {offered.lengths} minutes")
    hours = site_hours(session, rules, site=site, first=first, last=last)
    window = _window(hours, first, last)
    open_ = hours.between(first, last)
    closures = _closures(session, site, window)
    booked = _room_bookings(session, site, window, None)
    authority_load = _authority_load(session, offered.authority, window, None)
    capacity = rules.catalogue.capacities.get(offered.authority)
    visits = []
    for room in rules.rooms(site):
        layers = Layers(closures.get(room, ()), booked.get(room, ()), authority_load, capacity,
                        now)
        by_length = free_visits_by_length(open_, [m // 30 for m in lengths], layers)
        visits += [FreeVisit(room, v.start, v.end) for found in by_length.values()
                   for v in found]
    return sorted(visits, key=lambda v: (v.start, v.end, v.room))


def refusals(session: Session, rules: BookingRules, *, site: str, rooms: list[str],
             authority: str, visit: Interval, not_before: datetime,
             exclude: int | None = None) -> Iterator[tuple[str, str | None]]:
    """For each of ``rooms`` in turn, why ``visit`` cannot be booked there (a refusal reason),
    or None when it fits; ``exclude`` is a booking being moved, whose own slots do not count.
    The site's layers are read once for all the rooms."""
    week = sites.weekly_hours(rules.registry, site=site)
    first, last = week.local_day(visit.start), week.local_day(visit.end)
    hours = site_hours(session, rules, site=site, first=first, last=last)
    window = Interval(visit.start - SLOT, visit.end + SLOT)
    closures = _closures(session, site, window)
    booked = _room_bookings(session, site, window, exclude)
    load = _authority_load(session, authority, window, exclude)
    capacity = rules.catalogue.capacities.get(authority)
    for room in rooms:
        layers = Layers(closures.get(room, ()), booked.get(room, ()), load, capacity, not_before)
        yield room, refusal(hours, visit, layers)


def pick_room(session: Session, rules: BookingRules, *, site: str, room: str | None,
              authority: str, visit: Interval, not_before: datetime,
              exclude: int | None = None) -> str:
    """The room for ``visit``: the one asked for, or the first free one; refuse with the
    layers' reason (one reason shared by every room, else ``no_room_free``)."""
    if room is not None and room not in rules.registry.sites[site].rooms:
        raise refused("unknown_room", f"no room {room!r} at {site}")
    reasons = []
    for candidate, reason in refusals(session, rules, site=site,
                                      rooms=[room] if room else rules.rooms(site),
                                      authority=authority, visit=visit,
                                      not_before=not_before, exclude=exclude):
        if reason is None:
            return candidate
        reasons.append(reason)
    only = set(reasons)
    raise refused(only.pop() if len(only) == 1 else "no_room_free")
