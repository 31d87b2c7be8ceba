"""Service functions of statistics: the figures of a question (``answer``, one small reader
per family) and the occupancy kept past the event log's retention. The caller commits."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants of ``[first 00:00, last + 1 00:00)`` local time."""
    return local_instant(first, 0), local_instant(last + timedelta(days=1), 0)


@dataclass(frozen=True)
class Question:
    """What is asked of one family: the local days, the period and grouping, the scope."""

    session: Session
    registry: Registry
    sources: Sources
    first: date
    last: date
    period: str
    by: Sequence[str]
    now: datetime
    sites: list[str]
    authorities: set[str] | None

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The question's days as UTC instants."""
        return day_range(self.first, self.last)

    def kept(self, items: Iterable) -> list:
        """The facts of the question's sites and authorities."""
        return [i for i in items if i.site in self.sites and (
            self.authorities is None or getattr(i, "authority", None) in self.authorities)]

    def hours(self) -> dict:
        """Every site's opening hours around the question's days (an incident may run on)."""
        return {s: opening_hours(self.session, registry=self.registry, site=s,
                                 first=self.first - timedelta(days=31),
                                 last=self.last + timedelta(days=31))
                for s in self.registry.sites}

    def read(self, source) -> list:
        """The rows of a seam source in the question's span."""
        start, end = self.span
        return list(source(db=self.session, start=start, end=end))

    def visits(self, held: list) -> list:
        """The visits of the span, realised by the sessions ``held``."""
        start, end = self.span
        return visits_between(self.session, start=start, end=end, sessions=held)


def answer(session: Session, *, registry: Registry, sources: Sources, family: str,
           first: date, last: date, period: str, by: Sequence[str], now: datetime,
           sites: Iterable[str] | None = None, authorities: Iterable[str] | None = None
           ) -> list[dict]:
    """The rows of ``family`` for the local days ``first``..``last``, grouped by ``period``
    and ``by``, of ``sites`` and ``authorities`` only when given (unsuppressed)."""
    if family not in ANSWERS:
        raise ValueError(f"family is one of {tuple(figures.FAMILIES)}")
    figures.check_by(family, by)
    if period not in figures.PERIODS:
        raise ValueError(f"period is one of {figures.PERIODS}")
    if last < first:
        raise ValueError("the last day precedes the first")
    return ANSWERS[family](Question(
        session, registry, sources, first, last, period, by, now,
        sorted(registry.sites) if sites is None else sorted(sites),
        None if authorities is None else set(authorities)))


def _utilisation(q: Question) -> list[dict]:
    held = q.read(q.sources.sessions)
    start, end = q.span
    days = figures.room_days(
        rooms=[(s, r) for s in q.sites for r in q.registry.sites[s].rooms], hours=q.hours(),
        first=q.first, last=q.last, visits=q.visits(held), unbooked=unbooked_sessions(held),
        occupied=occupied(q.session, registry=q.registry, first=q.first, last=q.last),
        incidents=incident_facts(q.session, start=start, end=end), now=q.now)
    return figures.utilisation(days, by=q.by, period=q.period)


def _visits(q: Question) -> list[dict]:
    return figures.visits(q.kept(q.visits(q.read(q.sources.sessions))), by=q.by,
                          period=q.period)


def _changes(q: Question) -> list[dict]:
    start, end = q.span
    return figures.changes(q.kept(changes_made_between(q.session, start=start, end=end)),
                           by=q.by, period=q.period)


def _feedback_rows(q: Question) -> list[dict]:
    return figures.feedback(q.kept(_feedback(q.session, q.sources, q.first, q.last,
                                             q.period)), by=q.by)


def _calls(q: Question) -> list[dict]:
    return figures.calls(q.kept(q.read(q.sources.calls)), by=q.by, period=q.period)


def _incidents(q: Question) -> list[dict]:
    start, end = q.span
    opened = [i for i in incident_facts(q.session, start=start, end=end)
              if start <= i.opened_at < end]
    return figures.incidents(q.kept(opened), hours=q.hours(), by=q.by, period=q.period,
                             now=q.now)


def _tasks(q: Question) -> list[dict]:
    entries = [t for t in q.read(q.sources.task_entries) if q.first <= t.day <= q.last]
    return figures.tasks(q.kept(entries), by=q.by, period=q.period)


def _interpretation(q: Question) -> list[dict]:
    return figures.interpretation(q.kept(q.visits(q.read(q.sources.sessions))), by=q.by,
                                  period=q.period)


ANSWERS = {"utilisation": _utilisation, "visits": _visits, "changes": _changes,
           "feedback": _feedback_rows, "calls": _calls, "incidents": _incidents,
           "tasks": _tasks, "interpretation": _interpretation}


def _feedback(session: Session, sources: Sources, first: date, last: date,
              period: str) -> list[Feedback]:
    out = []
    for label, a, b in figures.periods_between(first, last, period):
        start, end = day_range(a, b)
        out += [Feedback(label, r.site, r.authority, r.giver, r.score, r.channel)
                for r in sources.feedback(db=session, start=start, end=end)]
        out += [Feedback(label, r.site, r.authority, r.giver, None, r.channel, asked=True,
                         answered=r.answered)
                for r in sources.feedback_asks(db=session, start=start, end=end)]
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


def days_not_kept(session: Session, *, first: date, last: date) -> list[date]:
    """The local days from ``first`` to ``last`` whose occupancy is not kept yet."""
    kept = set(session.scalars(select(OccupancyDay.day).where(
        OccupancyDay.day >= first, OccupancyDay.day <= last).distinct()))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)
            if first + timedelta(days=n) not in kept]


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
