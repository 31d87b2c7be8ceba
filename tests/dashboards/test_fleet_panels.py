"""The operations dashboard's panels run against a real InfluxDB 1.x holding points written in
the project's own line protocol (the ingest's encoders), and show what a person expects:
device health, the link probe's figures, the agent's offline time and outbox backlog."""
from __future__ import annotations

import re
import time

import pytest

from cloud.telemetry.lines import event_line, health_line, status_line, telemetry_line
from protocol.payloads import ButtonPress, Event, Health, Telemetry
from tests.dashboards.influxql import (
    DATABASE,
    dashboard,
    influx,
    panel,
    panel_figures,
    run_panel,
    write_lines,
)

OPERATIONS = dashboard("fleet")
MINUTE = 60_000
# the link probe's figures as a network telemetry carries them (the wire contract's names)
PROBES = ({"probe_rtt_ms": 23.4, "probe_jitter_ms": 1.8, "probe_loss_up_pct": 0.0,
           "probe_loss_down_pct": 2.0, "probe_bitrate_kbps": 2950.5, "probe_setup_ms": 310.0},
          {"probe_rtt_ms": 180.0, "probe_jitter_ms": 42.0, "probe_loss_up_pct": 6.0,
           "probe_loss_down_pct": 1.0, "probe_bitrate_kbps": 640.0, "probe_setup_ms": 900.0})


def _minute_of(now: int, minutes_ago: int) -> int:
    return now - minutes_ago * MINUTE


@pytest.fixture(scope="module")
def fleet_points(influxdb1):
    """Ten minutes of a pilot room's telemetry, health, presence and presses, as the ingest
    writes them; Porvoo's agent is offline from six to three minutes ago."""
    now = int(time.time() * 1000)
    lines = []
    for i in range(10):
        ts = _minute_of(now, 10 - i)
        lines += [
            telemetry_line("porvoo", "r1", "agent", Telemetry(ts=ts, seq=i, metrics={
                "cpu_pct": 10.0 + i, "outbox_msgs": i, "outbox_bytes": 100 * i,
                "outbox_dropped": 2 if i > 6 else 0, "outbox_refused": 0})),
            telemetry_line("porvoo", "r1", "network", Telemetry(ts=ts, seq=i, metrics={
                "reachable": 1, "rtt_ms": 20.5})),
            telemetry_line("imatra", "r1", "callbutton", Telemetry(ts=ts, seq=i, metrics={"battery_v": 2.9})),
            health_line("porvoo", "r1", "doccam", Health(ts=ts, seq=i, state="ok" if i < 5 else "missing",
                                                          code=None if i < 5 else "unplugged")),
            event_line("imatra", "r1", "callbutton", Event(ts=ts, seq=i, id=f"press-{i:08d}",
                                                           data=ButtonPress(type="button_press")), ts),
        ]
    for probe, minutes_ago in enumerate((9, 4)):  # two probes, in their own telemetry
        lines.append(telemetry_line("porvoo", "r1", "network", Telemetry(
            ts=_minute_of(now, minutes_ago) + 30_000, seq=100 + probe, metrics=PROBES[probe])))
    for minutes_ago, state in ((10, "online"), (6, "offline"), (3, "online")):
        lines.append(status_line("porvoo", "r1", state, _minute_of(now, minutes_ago)))
    write_lines(influxdb1.url, lines)
    return influxdb1.url, now


def figures(fleet_points, title_part: str) -> dict:
    url, now = fleet_points
    return panel_figures(url, panel("fleet", title_part), now - 3_600_000, now)


def test_there_is_a_dashboard_and_each_panel_has_a_raw_influxql_query():
    from tests.dashboards.influxql import DASHBOARD_DIR

    for path in DASHBOARD_DIR.glob("*.json"):
        for each in dashboard(path.stem)["panels"]:
            (target,) = each["targets"]
            assert target["rawQuery"] and target["query"].startswith("SELECT"), each["title"]
        # "All" as a regex, not the list of values: a site with no points in the variable's
        # measurement still shows in every panel
        assert all(v["allValue"] == ".*" for v in dashboard(path.stem)["templating"]["list"])


@pytest.mark.parametrize("each", OPERATIONS["panels"], ids=lambda p: p["title"])
def test_operations_panel_query_returns_series_per_room_from_real_influxdb(fleet_points, each):
    url, now = fleet_points
    series = run_panel(url, each, now - 3_600_000, now)
    assert series, f"no data for {each['title']}"
    assert all(set(s["tags"]) >= {"site", "room"} for s in series)


def test_health_panel_shows_the_document_camera_going_missing(fleet_points):
    url, now = fleet_points
    series = run_panel(url, panel("fleet", "device health"), now - 3_600_000, now)
    (doccam,) = [s for s in series if s["tags"]["device"] == "doccam"]
    levels = [value for _, value in doccam["values"] if value is not None]
    assert levels[0] == 0 and levels[-1] == 3


def test_offline_time_panel_counts_the_three_minutes_the_agent_was_away(fleet_points):
    assert figures(fleet_points, "offline time") == {("porvoo", "r1"): {"offline_min": 3}}


def test_presence_panel_shows_the_agent_offline_then_online_again(fleet_points):
    url, now = fleet_points
    (series,) = run_panel(url, panel("fleet", "agent offline (1)"), now - 3_600_000, now)
    states = [value for _, value in series["values"] if value is not None]
    assert states[0] == 0 and 1 in states and states[-1] == 0
    assert states.count(1) == 3


def test_link_probe_panels_show_each_probes_round_trip_jitter_loss_and_bitrate(fleet_points):
    url, now = fleet_points

    def shown(title_part: str) -> list[dict]:
        """The panel's rows with a value, without their time: one per probe here."""
        (series,) = run_panel(url, panel("fleet", title_part), now - 3_600_000, now)
        rows = [dict(zip(series["columns"][1:], row[1:], strict=True)) for row in series["values"]]
        return [row for row in rows if any(value is not None for value in row.values())]

    assert shown("round trip and jitter") == [{"rtt": 23.4, "jitter": 1.8},
                                              {"rtt": 180.0, "jitter": 42.0}]
    assert shown("packet loss") == [{"loss_up": 0.0, "loss_down": 2.0},
                                    {"loss_up": 6.0, "loss_down": 1.0}]
    assert shown("bitrate") == [{"bitrate": 2950.5}, {"bitrate": 640.0}]
    assert {row["rtt"] for row in shown("reachability")} == {20.5}


def test_the_link_probe_panels_read_the_wire_contracts_metric_names():
    from protocol import payloads

    contract = getattr(payloads, "LINK_METRICS", None)
    if contract is None:
        pytest.skip("the link probe's figures are not in the wire contract of this tree")
    read = set()
    for each in OPERATIONS["panels"]:
        if '"network"' in each["targets"][0]["query"] and "link probe" in each["title"]:
            read |= set(re.findall(r'mean\("(\w+)"\)', each["targets"][0]["query"]))
    assert read and read <= contract
    assert read >= set(PROBES[0]) - {"probe_setup_ms"}
    assert set(PROBES[0]) == contract


def test_outbox_panels_show_the_backlog_and_what_was_dropped(fleet_points):
    url, now = fleet_points
    (series,) = run_panel(url, panel("fleet", "outbox backlog"), now - 3_600_000, now)
    rows = [dict(zip(series["columns"], row, strict=True)) for row in series["values"]]
    last = [row for row in rows if row["messages"] is not None][-1]
    assert (last["messages"], last["dropped"]) == (9, 2)
    sizes = [row["bytes"] for row in figures(fleet_points, "outbox size").values()]
    assert max(sizes) == 900


def test_site_variable_lists_the_sites_with_data(fleet_points):
    url, _ = fleet_points
    (variable,) = OPERATIONS["templating"]["list"]
    result = influx(url, "/query", db=DATABASE, q=variable["query"])["results"][0]
    values = {value for _, value in result["series"][0]["values"]}
    assert values == {"porvoo"}  # health points exist for Porvoo only here
