"""Bookable visits of a remote-service room: pure rules, no I/O.

The hours a visit can be booked are the intersection of layers:

1. to 3. the site's ``OpeningHours`` (``cloud.sites.hours``: remote-service hours capped by the
   building's hours and their dated exceptions, closed on Finnish public holidays), the one
   model that incident severity and readiness read too,
4. the room's own availability (maintenance, an incident that makes it unusable),
5. the authority's expert capacity at that time (experts serving at once, minus their bookings),
6. the room's other bookings.

Instants are aware datetimes, compared in UTC. Slots are 30 minutes on the local half hour
(Helsinki's offsets are whole hours, so UTC half hours are the local ones too); a visit is one
or two consecutive slots.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cloud.sites.hours import (  # noqa: F401 - the site's model, named here for bookings' callers
    HELSINKI,
    REMOTE_SERVICE_HOURS,
    ROUND_THE_CLOCK,
    Interval,
    OpeningHours,
    Span,
    WeeklyHours,
    intersect_spans,
    local_instant,
)

SLOT = timedelta(minutes=30)
SLOT_MINUTES = 30
VISIT_SLOTS = (1, 2)  # 1 x 30 or 2 x 30 minutes


@dataclass(frozen=True)
class ExpertCapacity:
    """How many of an authority's experts serve at once, per weekday (local spans)."""

    weekly: Mapping[int, tuple[tuple[int, int, int], ...]]  # weekday -> (start, end, experts)
    tz: ZoneInfo = HELSINKI
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def experts_at(self, instant: datetime) -> int:
        """Experts serving at ``instant``; zero outside every window."""
        known = self._memo.get(instant)
        if known is None:
            local = instant.astimezone(self.tz)
            minute = local.hour * 60 + local.minute
            known = self._memo[instant] = sum(
                n for start, end, n in self.weekly.get(local.weekday(), ())
                if start <= minute < end)
        return known


UNLIMITED = None  # capacity not modelled: only the room limits


def subtract(intervals: Sequence[Interval], blocked: Sequence[Interval]) -> list[Interval]:
    """``intervals`` minus every ``blocked`` interval."""
    out = list(intervals)
    for cut in blocked:
        pieces = []
        for piece in out:
            if not piece.overlaps(cut):
                pieces.append(piece)
                continue
            if piece.start < cut.start:
                pieces.append(Interval(piece.start, cut.start))
            if cut.end < piece.end:
                pieces.append(Interval(cut.end, piece.end))
        out = pieces
    return out


def _align_up(instant: datetime) -> datetime:
    utc = instant.astimezone(UTC)
    floor = utc.replace(minute=utc.minute - utc.minute % SLOT_MINUTES, second=0, microsecond=0)
    return floor if floor == utc else floor + SLOT


def slot_floor(instant: datetime) -> datetime:
    """The start of the slot ``instant`` falls in (UTC)."""
    utc = instant.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % SLOT_MINUTES, second=0, microsecond=0)


def is_slot_aligned(instant: datetime) -> bool:
    """Whether ``instant`` is on a half hour."""
    return instant.minute % SLOT_MINUTES == 0 and instant.second == 0 \
        and instant.microsecond == 0


def booked_slot_counts(bookings: Iterable[Interval]) -> Counter:
    """How many of the given bookings occupy each slot start."""
    counts: Counter = Counter()
    for booking in bookings:
        counts.update(booking.slot_starts())
    return counts


@dataclass(frozen=True)
class Layers:
    """Everything below the site's hours that decides whether a room can take a visit."""

    room_blocked: Sequence[Interval] = ()       # maintenance, unusable room
    room_bookings: Sequence[Interval] = ()      # the room's other live bookings
    authority_load: Mapping[datetime, int] = field(default_factory=dict)  # the authority's
    # live bookings in every room, counted per slot start (see ``booked_slot_counts``)
    capacity: ExpertCapacity | None = UNLIMITED
    not_before: datetime | None = None           # usually ``now``: no visit starting earlier


def free_visits(open_intervals: Sequence[Interval], slots: int, layers: Layers) -> list[Interval]:
    """Every visit of ``slots`` consecutive slots that fits all layers, in time order."""
    return free_visits_by_length(open_intervals, (slots,), layers)[slots]


def free_visits_by_length(open_intervals: Sequence[Interval], lengths: Sequence[int],
                          layers: Layers) -> dict[int, list[Interval]]:
    """``free_visits`` for several visit lengths (in slots) at once: each slot is judged once,
    then a visit fits when all its consecutive slots are free within one open interval."""
    if set(lengths) - set(VISIT_SLOTS):
        raise ValueError(f"a visit is {VISIT_SLOTS} slots, not {lengths}")
    busy = busy_slots(layers.room_bookings)
    load, capacity = layers.authority_load, layers.capacity
    out: dict[int, list[Interval]] = {n: [] for n in lengths}
    for piece in sorted(subtract(open_intervals, layers.room_blocked)):
        start = _align_up(piece.start)
        if layers.not_before is not None and start < layers.not_before:
            start = max(start, _align_up(layers.not_before))
        starts, free = [], []  # this piece's slots, and whether each is free
        while start + SLOT <= piece.end:
            starts.append(start)
            free.append(start not in busy and (
                capacity is None or load.get(start, 0) < capacity.experts_at(start)))
            start += SLOT
        for n in lengths:
            length = SLOT * n
            out[n].extend(Interval(starts[i], starts[i] + length)
                          for i in range(len(starts) - n + 1) if all(free[i:i + n]))
    return out


def busy_slots(bookings: Iterable[Interval]) -> set[datetime]:
    """The starts of every slot that overlaps one of ``bookings``."""
    busy = set()
    for booking in bookings:
        at = booking.start
        if at.minute % SLOT_MINUTES or at.second or at.microsecond:
            at = slot_floor(at)
        while at < booking.end:
            busy.add(at)
            at += SLOT
    return busy


def _has_expert(visit: Interval, load: Mapping[datetime, int], capacity: ExpertCapacity | None) -> bool:
    if capacity is None:
        return True
    return all(load.get(at, 0) < capacity.experts_at(at) for at in visit.slot_starts())


REFUSALS = {
    "misaligned": "a visit starts on the half hour",
    "bad_length": "a visit is 30 or 60 minutes",
    "in_the_past": "the time has already passed",
    "holiday": "the service is closed on public holidays",
    "building_closed": "the building is closed at that time",
    "outside_hours": "outside the remote-service hours",
    "room_unavailable": "the room is unavailable at that time",
    "slot_taken": "the room is already booked at that time",
    "no_expert": "no expert of the authority is free at that time",
}


def refusal(hours: OpeningHours, visit: Interval, layers: Layers) -> str | None:
    """Why ``visit`` cannot be booked (a key of ``REFUSALS``), or None when it fits."""
    slots = (visit.end - visit.start) // SLOT
    if not is_slot_aligned(visit.start) or not is_slot_aligned(visit.end):
        return "misaligned"
    if slots not in VISIT_SLOTS or (visit.end - visit.start) % SLOT:
        return "bad_length"
    if layers.not_before is not None and visit.start < layers.not_before:
        return "in_the_past"
    reason = _hours_refusal(hours, visit)
    if reason:
        return reason
    if any(visit.overlaps(b) for b in layers.room_blocked):
        return "room_unavailable"
    if any(visit.overlaps(b) for b in layers.room_bookings):
        return "slot_taken"
    if not _has_expert(visit, layers.authority_load, layers.capacity):
        return "no_expert"
    return None


def _hours_refusal(hours: OpeningHours, visit: Interval) -> str | None:
    first, last = hours.local_day(visit.start), hours.local_day(visit.end - SLOT)
    if any(i.contains(visit) for i in hours.between(first, last)):
        return None
    if first in hours.holidays:
        return "holiday"
    service = OpeningHours(building=ROUND_THE_CLOCK, service=hours.service, tz=hours.tz)
    if any(i.contains(visit) for i in service.between(first, last)):
        return "building_closed"
    return "outside_hours"
