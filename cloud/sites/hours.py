"""Opening hours of a remote-service point: pure rules, no I/O.

A site is open where three layers agree:

1. the remote-service hours of the site (the pilot's Mon-Fri 09:00-15:00),
2. the building's hours for that weekday, or its dated exception (a closure is an empty day),
3. Finnish public holidays (closed like a Sunday).

Local hours are minutes from local midnight (``(540, 900)`` is 09:00-15:00) in the site's zone
(``site_zone``: Europe/Helsinki unless the registry says otherwise); instants are aware
datetimes, compared in UTC.

This module is the one way to read weekly hours (``WeeklyHours.parse``) and the one zone rule
of a site (``site_zone``); ``calendar.py`` is the one Finnish public-holiday calendar. The SLA
clocks of the support parties (``cloud.incidents.hours``) run over the same ``OpeningHours``.
"""
from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from cloud.registry import Registry

HELSINKI = DEFAULT_ZONE = ZoneInfo("Europe/Helsinki")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)(?:\s*x\s*(\d+))?$")

Span = tuple[int, int]  # [start, end) in minutes from local midnight, 0..1440


class Interval(NamedTuple):
    """A half-open time interval [start, end) between two aware instants (a named tuple:
    availability builds hundreds per request)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share any instant."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` lies wholly inside this interval."""
        return self.start <= other.start and other.end <= self.end

    def slot_starts(self) -> list[datetime]:
        """The starts of the 30-minute slots this (slot-aligned) interval covers."""
        starts, at, slot = [], self.start, timedelta(minutes=30)
        while at < self.end:
            starts.append(at)
            at += slot
        return starts


def zone_named(name: str) -> ZoneInfo:
    """The zone of an IANA name (``Europe/Helsinki``); ``ValueError`` for one that is not
    known, so a registry or matrix file naming it is refused when it loads."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"not a known time zone: {name!r}") from None


def site_zone(registry: Registry, site: str) -> ZoneInfo:
    """The zone a site's local times are in: the registry's ``timezone`` of the site,
    Europe/Helsinki for a site the registry does not know (an old row, a removed site)."""
    entry = registry.sites.get(site)
    return entry.zone if entry is not None else DEFAULT_ZONE


def parse_span(text: str) -> tuple[int, int, int]:
    """``"09:00-15:00 x 2"`` -> (540, 900, 2); the count defaults to 1."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"not a span HH:MM-HH:MM: {text!r}")
    h1, m1, h2, m2, n = match.groups()
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not 0 <= start < end <= 1440:
        raise ValueError(f"span must run forward within one day: {text!r}")
    return start, end, int(n or 1)


def parse_weekdays(key: str) -> list[int]:
    """``"mon-fri"`` -> [0..4]; ``"sat"`` -> [5]."""
    first, _, last = key.partition("-")
    if first not in WEEKDAYS or (last or first) not in WEEKDAYS:
        raise ValueError(f"not a weekday or range of weekdays: {key!r}")
    return list(range(WEEKDAYS.index(first), WEEKDAYS.index(last or first) + 1))


@dataclass(frozen=True)
class WeeklyHours:
    """Hours per weekday (0 = Monday); a weekday missing from ``days`` is closed."""

    days: Mapping[int, tuple[Span, ...]]

    def on(self, weekday: int) -> tuple[Span, ...]:
        """The spans open on ``weekday``."""
        return tuple(self.days.get(weekday, ()))

    @classmethod
    def every_weekday(cls, *spans: Span, weekdays: Iterable[int] = range(5)) -> WeeklyHours:
        """The same spans on each of ``weekdays`` (Monday to Friday by default)."""
        return cls({day: tuple(spans) for day in weekdays})

    @classmethod
    def parse(cls, table: Mapping[str, Sequence[str] | str]) -> WeeklyHours:
        """``{"mon-fri": ["09:00-15:00"], "sat": "10:00-12:00"}`` -> ``WeeklyHours`` (a day's
        spans as a list, or one span as a string: the parties' hours in the matrix)."""
        days: dict[int, list[Span]] = {}
        for key, spans in table.items():
            spans = [spans] if isinstance(spans, str) else spans
            for day in parse_weekdays(key):
                days.setdefault(day, []).extend(parse_span(s)[:2] for s in spans)
        return cls({d: _merge(v) for d, v in days.items()})


REMOTE_SERVICE_HOURS = WeeklyHours.every_weekday((9 * 60, 15 * 60))
ROUND_THE_CLOCK = WeeklyHours.every_weekday((0, 1440), weekdays=range(7))


def intersect_spans(a: Sequence[Span], b: Sequence[Span]) -> tuple[Span, ...]:
    """The minutes open in both ``a`` and ``b``, as sorted disjoint spans."""
    out = []
    for a_start, a_end in sorted(a):
        for b_start, b_end in sorted(b):
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return _merge(out)


def _merge(spans: Iterable[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def local_instant(day: date, minute: int, tz: ZoneInfo = HELSINKI) -> datetime:
    """The UTC instant of local wall time ``minute`` on ``day`` (1440 is the next midnight)."""
    wall = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)
    return wall.astimezone(UTC)


def day_window(day: date, tz: ZoneInfo = DEFAULT_ZONE) -> Interval:
    """A local calendar day as UTC instants, [midnight, next midnight) (23 or 25 hours on the
    days the clocks change)."""
    return Interval(local_instant(day, 0, tz), local_instant(day, 1440, tz))


@dataclass(frozen=True)
class OpeningHours:
    """When a site serves customers: its remote-service hours capped by the building's hours
    and their dated exceptions, closed on public holidays.

    ``exceptions`` hold the days they were loaded for (``cloud.sites.service.opening_hours``
    loads the range asked about); a day without one follows the building's week."""

    building: WeeklyHours = ROUND_THE_CLOCK
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)
    holidays: Container[date] = frozenset()
    service: WeeklyHours = REMOTE_SERVICE_HOURS
    tz: ZoneInfo = HELSINKI

    def spans(self, day: date) -> tuple[Span, ...]:
        """The local minutes open on ``day``."""
        if day in self.holidays:
            return ()
        building = self.exceptions.get(day, self.building.on(day.weekday()))
        return intersect_spans(self.service.on(day.weekday()), building)

    def intervals(self, day: date) -> list[Interval]:
        """The open intervals of ``day`` as UTC instants."""
        return [Interval(local_instant(day, start, self.tz), local_instant(day, end, self.tz))
                for start, end in self.spans(day)]

    def between(self, first: date, last: date) -> list[Interval]:
        """The open intervals of every day from ``first`` to ``last`` inclusive."""
        out: list[Interval] = []
        day = first
        while day <= last:
            out.extend(self.intervals(day))
            day += timedelta(days=1)
        return out

    def local_day(self, instant: datetime) -> date:
        """The local calendar day of ``instant``."""
        return instant.astimezone(self.tz).date()

    def is_open(self, instant: datetime) -> bool:
        """Whether the site serves at ``instant``."""
        day = self.local_day(instant)
        return any(i.start <= instant < i.end for i in self.intervals(day))

    def open_from(self, start: datetime, *, horizon_days: int = 400) -> Iterator[Interval]:
        """The open intervals that end after ``start``, in order, looking ``horizon_days``
        ahead (no service is closed longer; it guards against an always-closed week)."""
        day = self.local_day(start)
        for offset in range(horizon_days):
            for interval in self.intervals(day + timedelta(days=offset)):
                if interval.end > start:
                    yield interval

    def serves_within(self, instant: datetime, lead: timedelta) -> bool:
        """Whether the site is open at ``instant`` or opens before ``instant + lead``: the
        window in which a room that cannot serve is critical."""
        window = Interval(instant, instant + lead + timedelta(microseconds=1))
        first, last = self.local_day(instant), self.local_day(instant + lead)
        return any(i.overlaps(window) for i in self.between(first, last))
