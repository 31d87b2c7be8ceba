"""Service functions of statistics: the figures of a question, the occupancy kept past the
event log's retention, and the daily aggregates for InfluxDB. The caller commits."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.sites.hours import local_instant
from cloud.sites.service import opening_hours
from cloud.stats import figures
from cloud.stats.facts import Feedback, Sources, Span
from cloud.stats.models import OccupancyDay
from cloud.stats.sources import (
    changes_made_between,
    incident_facts,
    occupied_from_log,
    unbooked_sessions,
    visits_between,
)

log = logging.getLogger(__name__)


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants of ``[first 00:00, last + 1 00:00)`` local time."""
    return local_instant(first, 0), local_instant(last + timedelta(days=1), 0)


def answer(session: Session, *, registry: Registry, sources: Sources, family: str,
           first: date, last: date, period: str, by: Sequence[str], now: datetime,
           sites: Iterable[str] | None = None, authorities: Iterable[str] | None = None
           ) -> list[dict]:
    """The rows of ``family`` for the local days ``first``..``last``, grouped by ``period``
    and ``by``, of ``sites`` and ``authorities`` only when given (unsuppressed)."""
    figures.check_by(family, by)
    if period not in figures.PERIODS:
        raise ValueError(f"period is one of {figures.PERIODS}")
    if last < first:
        raise ValueError("the last day precedes the first")
    sites = sorted(registry.sites) if sites is None else sorted(sites)
    authorities = None if authorities is None else set(authorities)
    start, end = day_range(first, last)

    def kept(items):
        return [i for i in items if i.site in sites and (
            authorities is None or getattr(i, "authority", None) in authorities)]

    def hours():
        return {s: opening_hours(session, registry=registry, site=s, first=first - timedelta(
            days=31), last=last + timedelta(days=31)) for s in registry.sites}

    if family == "utilisation":
        held = list(sources.sessions(db=session, start=start, end=end))
        days = figures.room_days(
            rooms=[(s, r) for s in sites for r in registry.sites[s].rooms], hours=hours(),
            first=first, last=last, visits=visits_between(session, start=start, end=end,
                                                           sessions=held),
            unbooked=unbooked_sessions(held), occupied=occupied(session, registry=registry,
                                                                first=first, last=last),
            incidents=incident_facts(session, start=start, end=end), now=now)
        return figures.utilisation(days, by=by, period=period)
    if family == "visits":
        held = list(sources.sessions(db=session, start=start, end=end))
        return figures.visits(kept(visits_between(session, start=start, end=end,
                                                  sessions=held)), by=by, period=period)
    if family == "changes":
        return figures.changes(kept(changes_made_between(session, start=start, end=end)),
                               by=by, period=period)
    if family == "feedback":
        return figures.feedback(kept(_feedback(session, sources, first, last, period)), by=by)
    if family == "calls":
        return figures.calls(kept(sources.calls(db=session, start=start, end=end)), by=by,
                             period=period)
    if family == "incidents":
        opened = [i for i in incident_facts(session, start=start, end=end)
                  if start <= i.opened_at < end]
        return figures.incidents(kept(opened), hours=hours(), by=by, period=period, now=now)
    if family == "tasks":
        entries = [t for t in sources.task_entries(db=session, start=start, end=end)
                   if first <= t.day <= last]
        return figures.tasks(kept(entries), by=by, period=period)
    raise ValueError(f"family is one of {tuple(figures.FAMILIES)}")


def _feedback(session: Session, sources: Sources, first: date, last: date,
              period: str) -> list[Feedback]:
    out = []
    for label, a, b in figures.periods_between(first, last, period):
        start, end = day_range(a, b)
        out += [Feedback(label, r.site, r.authority, r.giver, r.score)
                for r in sources.feedback(db=session, start=start, end=end)]
    return out


# --- occupancy kept past the event log's retention -----------------------------------------

def keep_occupancy(session: Session, *, registry: Registry, day: date, now: datetime) -> int:
    """Keep the occupied times of every room on the finished local ``day`` (again, if kept
    before: a late event counts); returns the rooms kept."""
    start, end = day_range(day, day)
    spans: dict[tuple[str, str], list] = {(s, r): [] for s in registry.sites
                                          for r in registry.sites[s].rooms}
    for span in occupied_from_log(session, start=start, end=end):
        spans.setdefault((span.site, span.room), []).append(
            [span.start.isoformat(), span.end.isoformat()])
    session.execute(delete(OccupancyDay).where(OccupancyDay.day == day))
    session.add_all(OccupancyDay(site=s, room=r, day=day, spans=v, kept_at=now)
                    for (s, r), v in spans.items())
    session.flush()
    return len(spans)


def occupied(session: Session, *, registry: Registry, first: date, last: date) -> list[Span]:
    """The rooms' occupied times on the local days ``first``..``last``: as kept for the
    days kept, from the event log for the others (today, a day not yet kept)."""
    rows = session.scalars(select(OccupancyDay).where(OccupancyDay.day >= first,
                                                      OccupancyDay.day <= last)).all()
    kept_days = {r.day for r in rows}
    out = [Span(r.site, r.room, datetime.fromisoformat(a), datetime.fromisoformat(b))
           for r in rows for a, b in r.spans]
    day = first
    while day <= last:
        if day not in kept_days:
            start, end = day_range(day, day)
            out += occupied_from_log(session, start=start, end=end)
        day += timedelta(days=1)
    return out
