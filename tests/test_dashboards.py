"""Every Grafana panel's InfluxQL query runs against a real InfluxDB 1.x holding points written
in the project's own line protocol, and returns the series a person expects to see."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cloud.telemetry.lines import event_line, health_line, telemetry_line
from protocol.payloads import ButtonPress, Event, Health, Telemetry

DASHBOARDS = sorted((Path(__file__).parent.parent / "dashboards").glob("*.json"))
PANELS = [(path.stem, panel) for path in DASHBOARDS for panel in json.loads(path.read_text())["panels"]]


def grafana_macros(query: str, now_ms: int) -> str:
    """What Grafana substitutes before sending a raw InfluxQL query."""
    return (query.replace("$timeFilter", f"time >= {now_ms - 3_600_000}ms and time <= {now_ms}ms")
            .replace("$__interval", "1m").replace("/^$site$/", "/^(porvoo|imatra)$/"))


def influx(url: str, path: str, **params) -> dict:
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{url}{path}", data=data, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


@pytest.fixture(scope="module")
def fleet_points(influxdb1):
    """Ten minutes of a pilot room's telemetry, health and presses, as the ingest writes them."""
    database = "etapalvelu"
    influx(influxdb1.url, "/query", q=f'CREATE DATABASE "{database}"')
    now = int(time.time() * 1000)
    lines = []
    for i in range(10):
        ts = now - (10 - i) * 60_000
        lines += [
            telemetry_line("porvoo", "r1", "agent", Telemetry(ts=ts, seq=i, metrics={
                "cpu_pct": 10.0 + i, "outbox_msgs": i})),
            telemetry_line("porvoo", "r1", "network", Telemetry(ts=ts, seq=i, metrics={"rtt_ms": 20.5})),
            telemetry_line("imatra", "r1", "callbutton", Telemetry(ts=ts, seq=i, metrics={"battery_v": 2.9})),
            health_line("porvoo", "r1", "doccam", Health(ts=ts, seq=i, state="ok" if i < 5 else "missing",
                                                          code=None if i < 5 else "unplugged")),
            event_line("imatra", "r1", "callbutton", Event(ts=ts, seq=i, id=f"press-{i:08d}",
                                                           data=ButtonPress(type="button_press")), ts),
        ]
    request = urllib.request.Request(
        f"{influxdb1.url}/write?db={database}&precision=ms", data="\n".join(lines).encode(),
        method="POST")
    urllib.request.urlopen(request, timeout=10).read()
    return influxdb1.url, database, now


def test_there_is_a_dashboard_and_each_panel_has_a_raw_influxql_query():
    assert PANELS
    for _, panel in PANELS:
        (target,) = panel["targets"]
        assert target["rawQuery"] and target["query"].startswith("SELECT")


@pytest.mark.parametrize(("dashboard", "panel"), PANELS, ids=lambda p: p if isinstance(p, str) else p["title"])
def test_panel_query_returns_series_from_real_influxdb(fleet_points, dashboard, panel):
    url, database, now = fleet_points
    query = grafana_macros(panel["targets"][0]["query"], now)
    result = influx(url, "/query", db=database, q=query, epoch="ms")["results"][0]
    assert "error" not in result, result.get("error")
    series = result.get("series", [])
    assert series, f"no data for {panel['title']}"
    assert all(set(s["tags"]) >= {"site", "room"} for s in series)


def test_health_panel_shows_the_document_camera_going_missing(fleet_points):
    url, database, now = fleet_points
    (panel,) = [p for _, p in PANELS if "health" in p["title"]]
    result = influx(url, "/query", db=database, epoch="ms",
                    q=grafana_macros(panel["targets"][0]["query"], now))["results"][0]
    (doccam,) = [s for s in result["series"] if s["tags"]["device"] == "doccam"]
    levels = [value for _, value in doccam["values"] if value is not None]
    assert levels[0] == 0 and levels[-1] == 3


def test_site_variable_lists_the_sites_with_data(fleet_points):
    url, database, _ = fleet_points
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            result = influx(url, "/query", db=database, q=variable["query"])["results"][0]
            values = {value for _, value in result["series"][0]["values"]}
            assert values == {"porvoo"}  # health points exist for Porvoo only here
