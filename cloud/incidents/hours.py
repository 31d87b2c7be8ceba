"""Service hours and the SLA clock: business-time arithmetic, pure (``now`` is an argument).

Times in and out are aware datetimes; weekly hours are wall-clock times in the party's time
zone, so a DST change moves the UTC instants of opening, not the local ones.
"""
from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 400  # no service is closed for longer; guards against an always-closed calendar


def parse_weekly(spec: dict[str, str]) -> dict[int, tuple[tuple[time, time], ...]]:
    """``{"mon-fri": "08:00-16:15", "sat": "10:00-14:00"}`` -> weekday -> open intervals."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for days, span in spec.items():
        first, _, last = days.partition("-")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        opens, _, closes = span.partition("-")
        interval = (time.fromisoformat(opens), time.fromisoformat(closes))
        if interval[0] >= interval[1]:
            raise ValueError(f"{days}: {span} closes before it opens")
        for day in range(start, end + 1):
            weekly.setdefault(day, []).append(interval)
    return {day: tuple(sorted(spans)) for day, spans in weekly.items()}


@dataclass(frozen=True)
class ServiceHours:
    """When a party (or a room) is open: weekly hours in ``timezone``, closed on ``closed_days``.

    ``always`` means around the clock (a security contact)."""

    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    timezone: str = "Europe/Helsinki"
    closed_days: Container[date] = frozenset()
    always: bool = False

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (aware, in the zone) that end after ``start``, in order."""
        zone = ZoneInfo(self.timezone)
        if self.always:
            yield start, start + timedelta(days=_HORIZON_DAYS)
            return
        day = start.astimezone(zone).date()
        for offset in range(_HORIZON_DAYS):
            current = day + timedelta(days=offset)
            if current in self.closed_days:
                continue
            for opens, closes in self.weekly.get(current.weekday(), ()):
                begin = datetime.combine(current, opens, zone)
                end = datetime.combine(current, closes, zone)
                if end > start:
                    yield begin, end

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in service hours."""
        first = next(self.intervals(at), None)
        return first is not None and first[0] <= at < first[1]

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` itself when open, else the next opening (None if never within a year)."""
        first = next(self.intervals(at), None)
        return None if first is None else max(first[0], at)


@dataclass(frozen=True)
class SlaClock:
    """A response clock that runs only in ``hours``, or around the clock when critical."""

    hours: ServiceHours

    def due(self, start: datetime, allowed: timedelta, *, critical: bool = False) -> datetime:
        """The instant ``allowed`` clock time after ``start``."""
        if critical:
            return start + allowed
        remaining = allowed
        for opens, closes in self.hours.intervals(start):
            begin = max(opens, start)
            if begin + remaining <= closes:
                return begin + remaining
            remaining -= closes - begin
        raise ValueError("no service hours within a year: the clock cannot run")

    def elapsed(self, start: datetime, end: datetime, *, critical: bool = False) -> timedelta:
        """Clock time between ``start`` and ``end`` (zero when ``end`` is earlier)."""
        if end <= start:
            return timedelta(0)
        if critical:
            return end - start
        total = timedelta(0)
        for opens, closes in self.hours.intervals(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def breached(self, start: datetime, allowed: timedelta, now: datetime, *,
                 critical: bool = False) -> bool:
        """Whether the clock started at ``start`` has run past ``allowed`` at ``now``."""
        return now > self.due(start, allowed, critical=critical)
