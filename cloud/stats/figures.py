"""The figures of the pilot: pure functions over facts (``cloud.stats.facts``) and ``now``.

A figure function groups its facts by a period (local day, ISO week, month or weekday in
Europe/Helsinki) and by the dimensions asked (``by``), and measures each group; a row is a
dict ``{"period": ..., <dimension>: ..., <field>: ...}`` with the family's fields in order.
``suppress`` hides small counts for readers outside the site's own staff. docs/statistics.md
defines every field.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations

from cloud.sites.hours import HELSINKI, WEEKDAYS, Interval, OpeningHours
from cloud.stats.disclosure import Relation, protect
from cloud.stats.facts import Change, Feedback, IncidentFact, Span, Visit

PERIODS = ("day", "week", "month", "weekday")
SMALL = 5  # counts 1..SMALL-1 are suppressed outside the site's own staff
CANCELLED, COMPLETED, NO_SHOW, WALK_IN = "cancelled", "completed", "no_show", "walk_in"
SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Family:
    """A family of figures: the dimensions it may be grouped by, its fields in order, and what
    small-count suppression needs: the ``counts`` (hidden when small), the ``sums`` (additive
    minutes or seconds, each over its count: hidden with it), the other measures and what
    they rest on (``basis``: hidden when any of those is), and the ``parts`` of a row (a
    total and its weighted parts: ``visits = booked + walk_ins``)."""

    name: str
    dims: tuple[str, ...]
    fields: tuple[str, ...]
    counts: tuple[str, ...] = ()
    basis: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sums: Mapping[str, str] = field(default_factory=dict)
    parts: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


def _spread(count: str, measures: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {m: (count,) for m in measures}


FAMILIES = {f.name: f for f in (
    Family("utilisation", ("site", "room"),
           ("open_min", "booked_min", "realised_min", "occupied_min", "unavailable_min",
            "booked_pct", "realised_pct", "occupied_pct")),
    Family("visits", ("site", "room", "authority", "service"),
           ("visits", "booked", "walk_ins", "completed", "no_shows", "cancelled", "moved",
            "booked_min", "realised_count", "realised_min", "realised_avg_min",
            "realised_p50_min", "realised_p90_min", "wait_count", "wait_avg_min",
            "wait_p50_min", "wait_p90_min", "wait_min"),
           ("visits", "booked", "walk_ins", "completed", "no_shows", "cancelled", "moved",
            "realised_count", "wait_count"),
           {**_spread("realised_count", ("realised_p50_min", "realised_p90_min")),
            **_spread("wait_count", ("wait_p50_min", "wait_p90_min")),
            "realised_avg_min": ("realised_count", "realised_min"),
            "wait_avg_min": ("wait_count", "wait_min")},
           {"booked_min": "visits", "realised_min": "realised_count", "wait_min": "wait_count"},
           (("visits", (("booked", 1), ("walk_ins", 1))),)),
    Family("changes", ("site", "room", "authority", "service", "channel", "by", "action"),
           ("count",), ("count",)),
    Family("feedback", ("site", "authority", "giver", "channel"),
           ("count", "avg_score", *(f"score_{s}" for s in SCORES), "asked", "answered",
            "response_pct", "score_sum"),
           ("count", *(f"score_{s}" for s in SCORES), "asked", "answered"),
           {"avg_score": ("count", "score_sum"), "response_pct": ("asked", "answered")},
           {"score_sum": "count"},
           (("count", tuple((f"score_{s}", 1) for s in SCORES)),
            ("score_sum", tuple((f"score_{s}", s) for s in SCORES)))),
    Family("calls", ("site", "room"),
           ("calls", "acknowledged", "ack_p50_s", "ack_p90_s", "ack_max_s", "escalated",
            "ack_s_sum"),
           ("calls", "acknowledged", "escalated"),
           _spread("acknowledged", ("ack_p50_s", "ack_p90_s", "ack_max_s")),
           {"ack_s_sum": "acknowledged"}),
    Family("incidents", ("site", "room", "party", "category"),
           ("opened", "acknowledged", "respond_avg_min", "respond_p90_min", "resolved",
            "resolve_avg_min", "resolve_p90_min", "sla_breaches", "unavailable_min",
            "respond_min_sum", "resolve_min_sum"),
           ("opened", "acknowledged", "resolved", "sla_breaches"),
           {"respond_avg_min": ("acknowledged", "respond_min_sum"),
            "respond_p90_min": ("acknowledged",),
            "resolve_avg_min": ("resolved", "resolve_min_sum"),
            "resolve_p90_min": ("resolved",)},
           {"respond_min_sum": "acknowledged", "resolve_min_sum": "resolved"}),
    Family("tasks", ("site", "task"), ("minutes", "entries"), ("entries",)),
    Family("interpretation", ("site", "authority", "language", "mode"), ("visits",),
           ("visits",)),
)}


# --- periods and measures -------------------------------------------------------------------

def local_day(instant: datetime) -> date:
    """The Europe/Helsinki calendar day of an instant."""
    return instant.astimezone(HELSINKI).date()


def period_of(day: date, period: str) -> str:
    """The label of the period holding ``day``: ``2026-11-02``, ``2026-W45``, ``2026-11`` or
    the weekday (``mon`` .. ``sun``)."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "weekday":
        return WEEKDAYS[day.weekday()]
    raise ValueError(f"period is one of {PERIODS}")


def periods_between(first: date, last: date, period: str) -> list[tuple[str, date, date]]:
    """The periods of ``[first, last]`` (clipped to it) as (label, first day, last day);
    weekdays are not a sequence of periods and give the whole range."""
    if period == "weekday":
        return [("all", first, last)]
    out: list[tuple[str, date, date]] = []
    day = first
    while day <= last:
        label = period_of(day, period)
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1], day)
        else:
            out.append((label, day, day))
        day += timedelta(days=1)
    return out


def percentile(values: Sequence[float], p: int) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``p`` % at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _round(value: float | None, digits: int = 1) -> float | int | None:
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rows(items: Iterable, by: Sequence[str], period_label: Callable[[object], str],
          measure: Callable[[list], dict]) -> list[dict]:
    groups: dict[tuple, list] = defaultdict(list)
    for item in items:
        groups[(period_label(item), *(getattr(item, d) for d in by))].append(item)
    ordered = sorted(groups.items(), key=lambda kv: tuple("" if k is None else str(k)
                                                          for k in kv[0]))
    return [{"period": key[0], **dict(zip(by, key[1:])), **measure(group)}
            for key, group in ordered]


def check_by(family: str, by: Sequence[str]) -> None:
    """Refuse a grouping the family does not have."""
    unknown = set(by) - set(FAMILIES[family].dims)
    if unknown:
        raise ValueError(f"{family} groups by {FAMILIES[family].dims}, not {sorted(unknown)}")


# --- time inside opening hours ----------------------------------------------------------------

def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping intervals merged, sorted."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(end, merged[-1].end))
        elif start < end:
            merged.append(Interval(start, end))
    return merged


def minutes_inside(intervals: Iterable[Interval], open_: Sequence[Interval]) -> float:
    """Minutes of the union of ``intervals`` that fall inside the ``open_`` intervals."""
    total = 0.0
    for start, end in union(intervals):
        for o in open_:
            overlap = min(end, o.end) - max(start, o.start)
            if overlap > timedelta(0):
                total += _minutes(overlap)
    return total


# --- utilisation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoomDay:
    """One room on one local day: minutes open, booked, realised, occupied, unavailable."""

    site: str
    room: str
    day: date
    open_min: float
    booked_min: float
    realised_min: float
    occupied_min: float
    unavailable_min: float


def room_days(*, rooms: Iterable[tuple[str, str]], hours: Mapping[str, OpeningHours],
              first: date, last: date, visits: Iterable[Visit], unbooked: Iterable[Span],
              occupied: Iterable[Span], incidents: Iterable[IncidentFact],
              now: datetime) -> list[RoomDay]:
    """Every room's days from ``first`` to ``last``: each minute counted inside the site's
    opening hours only, overlapping times counted once."""
    booked, realised, sensed, stopped = (defaultdict(list) for _ in range(4))
    for v in visits:
        if v.status != CANCELLED:
            booked[v.site, v.room].append(Interval(v.start, v.end))
        if v.realised_start and v.realised_end:
            realised[v.site, v.room].append(Interval(v.realised_start, v.realised_end))
    for s in unbooked:
        realised[s.site, s.room].append(Interval(s.start, s.end))
    for s in occupied:
        sensed[s.site, s.room].append(Interval(s.start, s.end))
    site_wide = defaultdict(list)
    for i in incidents:
        if i.stops_room:
            (stopped[i.site, i.room] if i.room else site_wide[i.site]).append(
                Interval(i.opened_at, i.resolved_at or now))
    out = []
    for site, room in rooms:
        down = stopped[site, room] + site_wide[site]
        day = first
        while day <= last:
            open_ = hours[site].intervals(day)
            out.append(RoomDay(site, room, day, minutes_inside(open_, open_),
                               minutes_inside(booked[site, room], open_),
                               minutes_inside(realised[site, room], open_),
                               minutes_inside(sensed[site, room], open_),
                               minutes_inside(down, open_)))
            day += timedelta(days=1)
    return out


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def utilisation(days: Iterable[RoomDay], *, by: Sequence[str], period: str) -> list[dict]:
    """Minutes open, booked, realised, occupied and unavailable, and the shares of open time."""
    def measure(group: list[RoomDay]) -> dict:
        sums = {f: round(sum(getattr(d, f) for d in group), 1) for f in (
            "open_min", "booked_min", "realised_min", "occupied_min", "unavailable_min")}
        return {**sums, **{f"{f}_pct": _pct(sums[f"{f}_min"], sums["open_min"])
                           for f in ("booked", "realised", "occupied")}}
    return _rows(days, by, lambda d: period_of(d.day, period), measure)


# --- visits, changes ----------------------------------------------------------------------------

def visits(items: Iterable[Visit], *, by: Sequence[str], period: str) -> list[dict]:
    """Visits by outcome, booked and realised minutes, service and waiting times, counted on
    the local day of their booked start."""
    def measure(group: list[Visit]) -> dict:
        live = [v for v in group if v.status != CANCELLED]
        realised = [_minutes(v.realised_end - v.realised_start) for v in group
                    if v.realised_start and v.realised_end]
        waits = [max(0.0, _minutes(v.realised_start - v.checked_in_at)) for v in group
                 if v.checked_in_at and v.realised_start]
        return {
            "visits": len(live), "booked": sum(v.channel != WALK_IN for v in live),
            "walk_ins": sum(v.channel == WALK_IN for v in live),
            "completed": sum(v.status == COMPLETED for v in group),
            "no_shows": sum(v.status == NO_SHOW for v in group),
            "cancelled": sum(v.status == CANCELLED for v in group),
            "moved": sum(v.moves > 0 for v in group),
            "booked_min": round(sum(_minutes(v.end - v.start) for v in live), 1),
            "realised_count": len(realised), "realised_min": _round(sum(realised)),
            "realised_avg_min": _round(_avg(realised)),
            "realised_p50_min": _round(percentile(realised, 50)),
            "realised_p90_min": _round(percentile(realised, 90)),
            "wait_count": len(waits), "wait_avg_min": _round(_avg(waits)),
            "wait_p50_min": _round(percentile(waits, 50)),
            "wait_p90_min": _round(percentile(waits, 90)), "wait_min": _round(sum(waits))}
    return _rows(items, by, lambda v: period_of(local_day(v.start), period), measure)


@dataclass(frozen=True)
class Interpreted:
    """A visit with an interpreter, as the interpretation figures group it."""

    site: str
    authority: str
    language: str
    mode: str
    day: date


def interpretation(items: Iterable[Visit], *, by: Sequence[str], period: str) -> list[dict]:
    """Interpreted visits (an interpreter was needed; neither cancelled nor a no-show) by
    the interpreter's language and mode, on the local day of their booked start."""
    kept = [Interpreted(v.site, v.authority, v.interpreter_language, v.interpreter_mode,
                        local_day(v.start)) for v in items
            if v.interpreter_language and v.status not in (CANCELLED, NO_SHOW)]
    return _rows(kept, by, lambda i: period_of(i.day, period),
                 lambda group: {"visits": len(group)})


def changes(items: Iterable[Change], *, by: Sequence[str], period: str) -> list[dict]:
    """Moves and cancellations, on the local day they were made."""
    return _rows(items, by, lambda c: period_of(local_day(c.at), period),
                 lambda group: {"count": len(group)})


# --- feedback, calls, tasks ---------------------------------------------------------------------

def feedback(items: Iterable[Feedback], *, by: Sequence[str]) -> list[dict]:
    """Quick feedback: count, average and distribution of scores (by when each was given),
    and of the text messages asking for it, how many were sent (``asked``), how many of those
    were answered and the response rate (by when each was sent); by the period each was read
    for (the sources have no time of their own, so they are read per period)."""
    def measure(group: list[Feedback]) -> dict:
        scores = [f.score for f in group if f.score is not None]
        asked = [f for f in group if f.asked]
        answered = sum(f.answered for f in asked)
        return {"count": len(scores), "avg_score": _round(_avg(scores), 2),
                **{f"score_{s}": scores.count(s) for s in SCORES}, "asked": len(asked),
                "answered": answered, "response_pct": _pct(answered, len(asked)),
                "score_sum": sum(scores)}
    return _rows(items, by, lambda f: f.period, measure)


def calls(items: Iterable, *, by: Sequence[str], period: str) -> list[dict]:
    """Call-button calls: count, time to acknowledge (p50, p90, max, seconds), escalations;
    on the local day of the press."""
    def measure(group: list) -> dict:
        waits = [(c.acknowledged_at - c.pressed_at).total_seconds() for c in group
                 if c.acknowledged_at is not None]
        return {"calls": len(group), "acknowledged": len(waits),
                "ack_p50_s": _round(percentile(waits, 50), 0),
                "ack_p90_s": _round(percentile(waits, 90), 0),
                "ack_max_s": _round(max(waits) if waits else None, 0),
                "escalated": sum((c.escalation_level or 0) > 0 for c in group),
                "ack_s_sum": _round(sum(waits), 0)}
    return _rows(items, by, lambda c: period_of(local_day(c.pressed_at), period), measure)


def tasks(items: Iterable, *, by: Sequence[str], period: str) -> list[dict]:
    """The advisors' working time by task (minutes summed, never per advisor)."""
    return _rows(items, by, lambda t: period_of(t.day, period),
                 lambda group: {"minutes": sum(t.minutes for t in group),
                                "entries": len(group)})


# --- incidents ------------------------------------------------------------------------------------

def breached(incident: IncidentFact, now: datetime) -> bool:
    """Whether the response missed its SLA: escalated, acknowledged after the due time, or
    still unacknowledged past it."""
    if incident.escalated_at is not None:
        return True
    if incident.due_at is None:
        return False
    answered = incident.acknowledged_at
    return answered > incident.due_at if answered is not None else now > incident.due_at


def stopped_minutes(incident: IncidentFact, hours: OpeningHours, now: datetime) -> float:
    """Minutes inside opening hours from opening to resolve (or ``now``) of an incident that
    stops its room; 0 for one that does not."""
    if not incident.stops_room:
        return 0.0
    end = incident.resolved_at or now
    open_ = hours.between(local_day(incident.opened_at), local_day(end))
    return minutes_inside([Interval(incident.opened_at, end)], open_)


def incidents(items: Iterable[IncidentFact], *, hours: Mapping[str, OpeningHours],
              by: Sequence[str], period: str, now: datetime) -> list[dict]:
    """Incidents by the local day they opened: responses and resolves (wall-clock minutes
    from the SLA clock's start and from opening), SLA breaches, and minutes the room could
    not serve in opening hours."""
    def measure(group: list[IncidentFact]) -> dict:
        respond = [_minutes(i.acknowledged_at - i.clock_start) for i in group
                   if i.acknowledged_at]
        resolve = [_minutes(i.resolved_at - i.opened_at) for i in group if i.resolved_at]
        return {"opened": len(group), "acknowledged": len(respond),
                "respond_avg_min": _round(_avg(respond)),
                "respond_p90_min": _round(percentile(respond, 90)),
                "resolved": len(resolve), "resolve_avg_min": _round(_avg(resolve)),
                "resolve_p90_min": _round(percentile(resolve, 90)),
                "sla_breaches": sum(breached(i, now) for i in group),
                "unavailable_min": round(sum(stopped_minutes(i, hours[i.site], now)
                                             for i in group), 1),
                "respond_min_sum": _round(sum(respond)), "resolve_min_sum": _round(sum(resolve))}
    return _rows(items, by, lambda i: period_of(local_day(i.opened_at), period), measure)


# --- suppression --------------------------------------------------------------------------------

def small(value) -> bool:
    """Whether a count is small enough to point at a person (1 to 4)."""
    return isinstance(value, int) and 0 < value < SMALL


def suppress(family: str, rows: Iterable[dict]) -> list[dict]:
    """The rows as shown outside the site's own staff: every small count is hidden, then
    complements (``hidden_cells``) so that no hidden count or sum can be worked out from the
    cells shown and the table's totals; a sum over a hidden count and every measure resting
    on a hidden field go with it. Hidden values are ``None`` and named in the row's
    ``suppressed`` list."""
    spec, rows = FAMILIES[family], list(rows)
    hidden = hidden_cells(family, rows)
    out = []
    for i, row in enumerate(rows):
        gone = {f for f in (*spec.counts, *spec.sums) if (frozenset({i}), f) in hidden}
        gone |= {m for m, basis in spec.basis.items() if gone & set(basis)}
        out.append({**row, **{f: None for f in gone}, "suppressed": sorted(gone)})
    return out


def table_dims(spec: Family, rows: Sequence[dict]) -> tuple[str, ...]:
    """The dimensions of a table's rows: the period and the family's dimensions they hold."""
    return ("period", *(d for d in spec.dims if rows and d in rows[0]))


def hidden_cells(family: str, rows: Sequence[dict]) -> set[tuple[frozenset, str]]:
    """The hidden cells ``(rows added up, field)`` of a table and of its totals (every
    grouping by fewer of its dimensions, down to the grand total, as a reader gets them by
    asking coarser questions; row ``i`` itself is ``frozenset({i})``): the small counts, the
    sums over a hidden count, and the complements ``cloud.stats.disclosure.protect`` adds so
    that the shown cells and totals give no hidden one away."""
    spec = FAMILIES[family]
    fields = (*spec.counts, *spec.sums)
    groups = table_groups(spec, rows)
    values = {(g, f): sum(rows[i][f] or 0 for i in g) for g in groups for f in fields}
    return protect(values, [c for c in values if c[1] in spec.counts and small(values[c])],
                   _relations(spec, groups, fields),
                   follows={(g, c): [(g, s) for s, b in spec.sums.items() if b == c]
                            for g in groups for c in spec.counts})


def table_groups(spec: Family, rows: Sequence[dict]) -> dict[frozenset, list[frozenset]]:
    """The table's rows and totals, each as the rows it adds up, with its finer parts along
    each dimension (a total asked twice by different groupings is one)."""
    dims = table_dims(spec, rows)
    out: dict[frozenset, list[frozenset]] = {}
    for kept in (k for n in range(len(dims) + 1) for k in combinations(dims, n)):
        lines: dict[tuple, set[int]] = defaultdict(set)
        for i, row in enumerate(rows):
            lines[tuple(row[d] for d in kept)].add(i)
        for members in lines.values():
            out.setdefault(frozenset(members), [])
    for total, splits in out.items():  # a total's parts along a dimension: one level finer
        for d in dims:
            parts = defaultdict(set)
            for i in total:
                parts[rows[i][d]].add(i)
            if len(parts) > 1 and all(frozenset(p) in out for p in parts.values()):
                splits.append([frozenset(p) for p in parts.values()])
    return out


def _relations(spec: Family, groups: Mapping[frozenset, list], fields: Sequence[str]
               ) -> list[Relation]:
    """Every total is the sum of its parts along each dimension, and a cell's parts add up to
    its total (``visits = booked + walk_ins``)."""
    out = [Relation((((total, f), 1), *(((p, f), -1) for p in parts)))
           for total, splits in groups.items() for parts in splits for f in fields]
    for g in groups:
        for total, parts in spec.parts:
            out.append(Relation((((g, total), 1), *(((g, p), -k) for p, k in parts))))
    return out
