"""The daily aggregates: each finished local day's figures as InfluxDB points (line protocol),
measurements named in docs/telemetry.md ("Statistics aggregates"), and the job of the schedule
process that keeps each day's occupancy and writes its points."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.sites.hours import local_instant
from cloud.stats.facts import Sources
from cloud.stats.figures import local_day
from cloud.stats.service import answer, days_not_kept, keep_occupancy
from etapalvelu.logs import event_log

log = event_log(__name__)
CATCH_UP = timedelta(days=60)  # inside the event log's retention (90 days by default)

# measurement -> (figure family, tags, fields); the fields are the family's of the same name
MEASUREMENTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "stats_room_day": ("utilisation", ("site", "room"), (
        "open_min", "booked_min", "realised_min", "occupied_min", "unavailable_min")),
    "stats_visits_day": ("visits", ("site", "authority"), (
        "visits", "booked", "walk_ins", "completed", "no_shows", "cancelled", "moved",
        "booked_min", "realised_count", "realised_min", "wait_count", "wait_min")),
    "stats_changes_day": ("changes", ("site", "channel", "by", "action"), ("count",)),
    "stats_feedback_day": ("feedback", ("site", "authority", "giver", "channel"), (
        "count", "score_sum", "score_1", "score_2", "score_3", "score_4", "score_5", "asked",
        "answered")),
    "stats_calls_day": ("calls", ("site", "room"), (
        "calls", "acknowledged", "ack_s_sum", "ack_max_s", "escalated")),
    "stats_incidents_day": ("incidents", ("site", "party", "category"), (
        "opened", "acknowledged", "respond_min_sum", "resolved", "resolve_min_sum",
        "sla_breaches", "unavailable_min")),
    "stats_tasks_day": ("tasks", ("site", "task"), ("minutes", "entries")),
}


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace(",", r"\,").replace("=", r"\=").replace(
        " ", r"\ ")


def daily_lines(session: Session, *, registry: Registry, sources: Sources, day: date,
                now: datetime) -> list[str]:
    """The points of the local ``day``: one per measurement and tag set, at the day's local
    midnight (milliseconds), every field a float."""
    ms = int(local_instant(day, 0).timestamp() * 1000)
    lines = []
    for measurement, (family, tags, fields) in MEASUREMENTS.items():
        for row in answer(session, registry=registry, sources=sources, family=family,
                          first=day, last=day, period="day", by=tags, now=now):
            tag_text = ",".join(f"{t}={_escape(row[t])}" for t in tags if row[t] is not None)
            values = ",".join(f"{f}={float(row[f])}" for f in fields if row[f] is not None)
            lines.append(f"{measurement},{tag_text} {values} {ms}")
    return lines


def influx_write(*, url: str, token: str, org: str, bucket: str) -> Callable[[list[str]], None]:
    """A synchronous writer of line protocol to ``/api/v2/write`` (millisecond precision)."""
    from influxdb_client import InfluxDBClient, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    client = InfluxDBClient(url=url, token=token or "unused", org=org, timeout=10_000)
    api = client.write_api(write_options=SYNCHRONOUS)

    def write(lines: list[str]) -> None:
        if lines:
            api.write(bucket=bucket, org=org, record=lines, write_precision=WritePrecision.MS)
    return write


class DailyStatistics:
    """The schedule's statistics step: for yesterday and the day before (each finished day
    twice, so late facts reach it), keep the rooms' occupancy and write the day's points,
    once per day and process, and keep the occupancy of earlier days missed while no schedule
    ran (back to ``CATCH_UP``); ``write`` None: points off (no telemetry store), logged once."""

    def __init__(self, registry: Registry, sources: Sources,
                 write: Callable[[list[str]], None] | None) -> None:
        self.registry, self.sources, self.write = registry, sources, write
        self._done: set[tuple[date | None, date]] = set()
        if write is None:
            log.info("stats.daily_off", influx="off", reason="no ETP_INFLUX_URL")

    def run(self, session: Session, *, now: datetime) -> int:
        """Do what is due at ``now`` (the caller commits); returns the points written."""
        today, points = local_day(now), 0
        if (None, today) not in self._done:  # days missed while no schedule ran, once a day
            for day in days_not_kept(session, first=today - CATCH_UP,
                                     last=today - timedelta(days=3)):
                keep_occupancy(session, registry=self.registry, day=day, now=now)
            self._done.add((None, today))
        for day in (today - timedelta(days=2), today - timedelta(days=1)):
            if (day, today) in self._done:
                continue
            keep_occupancy(session, registry=self.registry, day=day, now=now)
            if self.write is not None:
                lines = daily_lines(session, registry=self.registry, sources=self.sources,
                                    day=day, now=now)
                self.write(lines)
                points += len(lines)
            self._done.add((day, today))
            log.info("stats.daily_written", day=day.isoformat(), points=points)
        return points
