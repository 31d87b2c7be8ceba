"""The SLA clock: business-time arithmetic, pure (``now`` is an argument).

A party's service hours are an ``OpeningHours`` of the site domain (``cloud.sites.hours``):
the same weekly-hours parser, the same Finnish public-holiday calendar and the same local-time
rule as the sites' opening hours, so a party's desk and a site close on the same days. Weekly
hours are wall-clock times in the party's zone, so a DST change moves the UTC instants of
opening, not the local ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud.sites.hours import OpeningHours


@dataclass(frozen=True)
class SlaClock:
    """A response clock that runs only in ``hours``, or around the clock when critical."""

    hours: OpeningHours

    def due(self, start: datetime, allowed: timedelta, *, critical: bool = False) -> datetime:
        """The instant ``allowed`` clock time after ``start``."""
        if critical:
            return start + allowed
        remaining = allowed
        for opens, closes in self.hours.open_from(start):
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
        for opens, closes in self.hours.open_from(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def breached(self, start: datetime, allowed: timedelta, now: datetime, *,
                 critical: bool = False) -> bool:
        """Whether the clock started at ``start`` has run past ``allowed`` at ``now``."""
        return now > self.due(start, allowed, critical=critical)
