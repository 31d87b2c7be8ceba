"""The hours a point publishes: pure, no I/O.

Everything comes from the site's ``OpeningHours`` (remote-service hours capped by the
building's, its dated exceptions and the public holidays), so the public page, the JSON-LD and
the PTV export cannot tell a customer other hours than the ones bookings follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cloud.sites.hours import WEEKDAYS, OpeningHours, Span, intersect_spans

PUBLISHED_DAYS = 28  # the next four weeks


@dataclass(frozen=True)
class PublishedDay:
    """One day of the published weeks: its open spans (local minutes) and why it differs
    from the regular week, if it does."""

    day: date
    spans: tuple[Span, ...]
    holiday: bool = False
    exception: bool = False  # the building's dated hours (a closure is an empty day)

    @property
    def special(self) -> bool:
        """Whether the day is a public holiday or has the building's own hours that day."""
        return self.holiday or self.exception


@dataclass(frozen=True)
class PublishedHours:
    """A point's regular week (Monday first) and the days from ``days[0]`` on."""

    regular: tuple[tuple[Span, ...], ...]
    days: tuple[PublishedDay, ...]

    @property
    def special_days(self) -> list[PublishedDay]:
        """The days that do not follow the regular week's rule."""
        return [d for d in self.days if d.special]

    def regular_groups(self) -> list[tuple[int, int, tuple[Span, ...]]]:
        """The open weekdays grouped into runs with the same hours: ``(first, last, spans)``
        (``(0, 4, ((540, 900),))`` is Mon-Fri 09:00-15:00)."""
        groups: list[tuple[int, int, tuple[Span, ...]]] = []
        for weekday, spans in enumerate(self.regular):
            if not spans:
                continue
            if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == spans:
                groups[-1] = (groups[-1][0], weekday, spans)
            else:
                groups.append((weekday, weekday, spans))
        return groups


def regular_week(hours: OpeningHours) -> tuple[tuple[Span, ...], ...]:
    """The spans of each weekday without dated exceptions or holidays."""
    return tuple(intersect_spans(hours.service.on(d), hours.building.on(d))
                 for d in range(len(WEEKDAYS)))


def published_hours(hours: OpeningHours, first: date,
                    count: int = PUBLISHED_DAYS) -> PublishedHours:
    """The regular week and ``count`` days from ``first``; ``hours`` must hold the building's
    exceptions of those days (``cloud.sites.service.opening_hours``)."""
    days = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        days.append(PublishedDay(day, hours.spans(day), holiday=day in hours.holidays,
                                 exception=day in hours.exceptions))
    return PublishedHours(regular_week(hours), tuple(days))


def hhmm(minute: int) -> str:
    """Local minutes as ``09:00`` (the wall clock a span starts or ends at)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"
