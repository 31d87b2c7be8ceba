"""The Grafana panels of the statistics dashboards, run as Grafana runs them against a real
InfluxDB 1.x holding the daily aggregates the schedule writes for the seeded month, show the
same figures as the statistics API for that month (rounded as the API rounds)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cloud.stats import service
from cloud.stats.daily import MEASUREMENTS, daily_lines
from tests.dashboards.influxql import (
    HELSINKI,
    _grouping,
    assert_panel_equals_api,
    dashboard,
    panel_figures,
    write_lines,
)
from tests.servers import InfluxDB1
from tests.stats import seed
from tests.stats.seams import SOURCES

DASHBOARDS = ("utilisation", "incidents", "calls")
# panel columns that are arithmetic over the API's fields
DERIVED = {
    "ack_avg_s": lambda r: r["ack_s_sum"] / r["acknowledged"] if r["acknowledged"] else None,
    "sla_compliance_pct": lambda r: 100 - 100 * r["sla_breaches"] / r["opened"]
    if r["opened"] else None,
}
PANELS = [(name, p) for name in DASHBOARDS for p in dashboard(name)["panels"]]


@pytest.fixture(scope="module")
def influx_of_the_month(tmp_path_factory):
    """A private InfluxDB 1.x (the dashboards' database name is fixed, so not the shared one)."""
    with InfluxDB1(tmp_path_factory.mktemp("influx-stats-month")) as server:
        yield server


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def expected(session, registry, query: str, columns: list[str]) -> dict:
    (measurement,) = {m for m in MEASUREMENTS if f'"{m}"' in query}
    family = MEASUREMENTS[measurement][0]
    tags, by_day = _grouping(query)
    rows = service.answer(session, registry=registry, sources=SOURCES, family=family,
                          first=date(2026, 11, 1), last=date(2026, 11, 30),
                          period="day" if by_day else "month", by=tags, now=seed.NOW)
    out = {}
    for row in rows:
        values = {c: DERIVED[c](row) if c in DERIVED else row[c] for c in columns}
        if any(v is None for v in values.values()):
            continue  # a panel leaves out what has nothing to average (a closed day too)
        key = tuple(str(row[t]) for t in tags) + ((row["period"],) if by_day else ())
        out[key] = values
    return out


def test_every_statistics_panel_shows_the_apis_figures_of_the_seeded_month(
        seeded, influx_of_the_month):
    _, sessions, registry = seeded
    with sessions() as s:
        lines = []
        day = date(2026, 10, 31)  # a day each side of the month, which no panel may count
        while day <= date(2026, 12, 1):
            lines += daily_lines(s, registry=registry, sources=SOURCES, day=day, now=seed.NOW)
            day += timedelta(days=1)
        write_lines(influx_of_the_month.url, lines)
        start = datetime(2026, 11, 1, tzinfo=HELSINKI)  # Grafana's "this month" in Helsinki
        end = datetime(2026, 12, 1, tzinfo=HELSINKI) - timedelta(milliseconds=1)
        assert len(PANELS) == 20
        for _, each in PANELS:
            query = each["targets"][0]["query"]
            shown = panel_figures(influx_of_the_month.url, each, _ms(start), _ms(end))
            assert shown, each["title"]
            columns = sorted({c for v in shown.values() for c in v})
            assert_panel_equals_api(expected(s, registry, query, columns), shown)
