"""The daily aggregates of the seeded month: the schedule's statistics step writes them through
InfluxDB's write API (VictoriaMetrics here), and the real InfluxDB 1.x, summing the days with
InfluxQL as a dashboard does, gives the month's figures of the API exactly."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta

from cloud.bookings.service import BookingRules
from cloud.bookings.settings import BookingSettings
from cloud.flows.schedule import tick
from cloud.stats import service
from cloud.stats.daily import MEASUREMENTS, DailyStatistics, daily_lines, influx_write
from cloud.twin.service import purge_events
from tests.stats import seed
from tests.stats.seams import SOURCES

MAXIMA = {"ack_max_s"}  # not additive: a dashboard takes max()


def influxql(url: str, **params) -> dict:
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{url}/query", data=data, timeout=10) as response:
        return json.loads(response.read())


def test_the_schedule_writes_each_finished_days_aggregates_to_the_telemetry_store(
        seeded, victoria):
    _, sessions, registry = seeded
    write = influx_write(url=victoria.url, token="", org="etapalvelu", bucket="etapalvelu")
    statistics = DailyStatistics(registry, SOURCES, write)
    now = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)  # 3:00 on 4.11.: 2.11. and 3.11. are due
    done = tick(sessions, BookingRules.load(registry), BookingSettings(), now=now,
                statistics=statistics)
    assert done["stats_points"] > 0
    again = tick(sessions, BookingRules.load(registry), BookingSettings(), now=now,
                 statistics=statistics)
    assert again["stats_points"] == 0  # once per day and process
    midnight = int(datetime(2026, 11, 1, 22, 0, tzinfo=UTC).timestamp() * 1000)  # 2.11. 00:00
    booked = victoria.export("stats_room_day_booked_min", start_ms=midnight - 1,
                             end_ms=midnight + 2 * 86_400_000)
    porvoo = next(v for k, v in booked.items() if ("site", "porvoo") in k)
    assert porvoo == [midnight, midnight + 86_400_000]
    assert victoria.export("stats_calls_day_calls", start_ms=midnight - 1,
                           end_ms=midnight + 1)


def test_influxql_sums_of_the_daily_points_give_the_months_figures_of_the_api(
        seeded, influxdb1):
    _, sessions, registry = seeded
    influxql(influxdb1.url, q='CREATE DATABASE "stats_month"')
    lines = []
    with sessions() as s:
        day = date(2026, 11, 1)
        while day <= date(2026, 11, 30):
            lines += daily_lines(s, registry=registry, sources=SOURCES, day=day, now=seed.NOW)
            day += timedelta(days=1)
        request = urllib.request.Request(f"{influxdb1.url}/write?db=stats_month&precision=ms",
                                         data="\n".join(lines).encode(), method="POST")
        urllib.request.urlopen(request, timeout=10).read()
        window = "time >= '2026-10-31T22:00:00Z' AND time < '2026-11-30T22:00:00Z'"
        for measurement, (family, tags, fields) in MEASUREMENTS.items():
            expected = {tuple(r[t] for t in tags): r for r in service.answer(
                s, registry=registry, sources=SOURCES, family=family, first=date(2026, 11, 1),
                last=date(2026, 11, 30), period="month", by=tags, now=seed.NOW)}
            selects = ", ".join(f'{"max" if f in MAXIMA else "sum"}("{f}") AS "{f}"'
                                for f in fields)
            answer = influxql(influxdb1.url, db="stats_month", q=(
                f'SELECT {selects} FROM "{measurement}" WHERE {window} GROUP BY '
                + ", ".join(f'"{t}"' for t in tags)))["results"][0]
            got = {}
            for series in answer.get("series", []):
                columns, values = series["columns"], series["values"][0]
                got[tuple(series["tags"][t] or None for t in tags)] = dict(zip(columns, values))
            assert set(got) == set(expected), measurement
            for key, row in expected.items():
                for f in fields:
                    if row[f] is not None:
                        assert got[key][f] == row[f], (measurement, key, f)


def test_a_schedule_back_after_weeks_away_keeps_the_occupancy_of_the_days_it_missed(seeded):
    _, sessions, registry = seeded
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    with sessions() as s:
        before = service.occupied(s, registry=registry, first=first, last=last)
        assert service.days_not_kept(s, first=first, last=last) == [
            first + timedelta(days=n) for n in range(30)]
        DailyStatistics(registry, SOURCES, write=None).run(s, now=datetime(
            2026, 12, 20, 9, 0, tzinfo=UTC))  # the first round since October
        s.commit()
        assert service.days_not_kept(s, first=first, last=last) == []
        purge_events(db=s, before=datetime(2027, 6, 1, tzinfo=UTC))
        s.commit()
        assert service.occupied(s, registry=registry, first=first, last=last) == before
