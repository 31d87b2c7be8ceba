"""The statistics dashboards (utilisation and feedback, incidents and SLA, call-button
response) run against a real InfluxDB 1.x holding daily aggregates in the shape
docs/telemetry.md ("Statistics aggregates") defines, and every panel shows exactly the figures
of the seed for a month taken as Grafana takes it (local month, Europe/Helsinki)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.dashboards.influxql import (
    DATABASE,
    HELSINKI,
    assert_panel_equals_api,
    dashboard,
    figures_from_api,
    influx,
    panel,
    panel_figures,
    run_panel,
    write_lines,
)

STATS_DASHBOARDS = ("utilisation", "incidents", "calls")
NOVEMBER = (datetime(2026, 11, 1, tzinfo=HELSINKI), datetime(2026, 12, 1, tzinfo=HELSINKI))


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def day_point(measurement: str, tags: dict[str, str], day: str, **fields: float) -> str:
    """One daily aggregate: at the local day's midnight, tags from the registry, float fields."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=HELSINKI)
    tag_text = ",".join(f"{k}={v}" for k, v in tags.items())
    field_text = ",".join(f"{k}={float(v)!r}" for k, v in fields.items())
    return f"{measurement},{tag_text} {field_text} {_ms(midnight)}"


def room(site, name, day, **fields):
    return day_point("stats_room_day", {"site": site, "room": name}, day, **fields)


def visits(site, authority, day, **fields):
    return day_point("stats_visits_day", {"site": site, "authority": authority}, day, **fields)


def changes(site, channel, by, action, day, count):
    return day_point("stats_changes_day",
                     {"site": site, "channel": channel, "by": by, "action": action}, day,
                     count=count)


def feedback(site, authority, giver, day, scores: dict[int, int], channel="terminal",
             asked=0, answered=0):
    counts = {f"score_{n}": scores.get(n, 0) for n in range(1, 6)}
    return day_point("stats_feedback_day", {"site": site, "authority": authority, "giver": giver,
                                            "channel": channel},
                     day, count=sum(scores.values()),
                     score_sum=sum(n * c for n, c in scores.items()), **counts, asked=asked,
                     answered=answered)


def calls(site, name, day, **fields):
    return day_point("stats_calls_day", {"site": site, "room": name}, day, **fields)


def incidents(site, party, category, day, **fields):
    return day_point("stats_incidents_day", {"site": site, "party": party, "category": category},
                     day, **fields)


def tasks(site, task, day, minutes, entries):
    return day_point("stats_tasks_day", {"site": site, "task": task}, day, minutes=minutes,
                     entries=entries)


# Two days in Porvoo, one in Imatra; a day before and a day after November that no panel of
# the month may count (the first local day of December starts at 22:00 UTC on 30 November);
# a closed day and figures with nothing to average, which a panel leaves out rather than
# showing 0 (InfluxQL answers 0 for x / 0; the API answers none).
SEED = [
    room("porvoo", "r1", "2026-11-02", open_min=480, booked_min=240, realised_min=200,
         occupied_min=300, unavailable_min=30),
    room("porvoo", "r1", "2026-11-03", open_min=480, booked_min=120, realised_min=100,
         occupied_min=60, unavailable_min=0),
    room("imatra", "r1", "2026-11-02", open_min=300, booked_min=150, realised_min=150,
         occupied_min=150, unavailable_min=0),
    room("porvoo", "r1", "2026-11-01", open_min=0, booked_min=0, realised_min=0,
         occupied_min=0, unavailable_min=0),  # a Sunday: closed
    room("porvoo", "r1", "2026-10-31", open_min=480, booked_min=480, realised_min=480,
         occupied_min=480, unavailable_min=480),
    room("porvoo", "r1", "2026-12-01", open_min=480, booked_min=480, realised_min=480,
         occupied_min=480, unavailable_min=480),
    visits("porvoo", "kela", "2026-11-02", visits=6, booked=5, walk_ins=1, completed=4,
           no_shows=1, cancelled=2, moved=1, booked_min=180, realised_count=5, realised_min=100,
           wait_count=5, wait_min=20),
    visits("porvoo", "kela", "2026-11-03", visits=4, booked=4, walk_ins=0, completed=3,
           no_shows=0, cancelled=1, moved=0, booked_min=120, realised_count=3, realised_min=80,
           wait_count=2, wait_min=4),
    visits("porvoo", "vero", "2026-11-02", visits=2, booked=2, walk_ins=0, completed=2,
           no_shows=0, cancelled=0, moved=0, booked_min=60, realised_count=2, realised_min=50,
           wait_count=2, wait_min=6),
    visits("imatra", "kela", "2026-11-02", visits=3, booked=3, walk_ins=0, completed=3,
           no_shows=0, cancelled=0, moved=0, booked_min=90, realised_count=3, realised_min=45,
           wait_count=3, wait_min=9),
    visits("imatra", "vero", "2026-11-04", visits=1, booked=1, walk_ins=0, completed=0,
           no_shows=1, cancelled=0, moved=0, booked_min=30, realised_count=0, realised_min=0,
           wait_count=0, wait_min=0),  # no realised time, no wait: no average to show
    visits("imatra", "kela", "2026-12-01", visits=9, booked=9, walk_ins=9, completed=9,
           no_shows=9, cancelled=9, moved=9, booked_min=99, realised_count=9, realised_min=99,
           wait_count=9, wait_min=9),
    changes("porvoo", "on_site", "advisor", "cancelled", "2026-11-02", 1),
    changes("porvoo", "phone_service", "phone_agent", "cancelled", "2026-11-02", 1),
    changes("porvoo", "phone_service", "phone_agent", "cancelled", "2026-11-03", 1),
    changes("porvoo", "service_number", "phone_agent", "moved", "2026-11-02", 1),
    feedback("porvoo", "kela", "customer", "2026-11-02", {3: 1, 4: 1, 5: 2}),
    feedback("porvoo", "kela", "customer", "2026-11-03", {3: 1, 4: 1}),
    # by text message: three asked, two answered (a 5 and a 2)
    feedback("porvoo", "kela", "customer", "2026-11-04", {2: 1, 5: 1}, "sms", asked=3,
             answered=2),
    feedback("imatra", "kela", "customer", "2026-11-04", {}, "sms", asked=1),
    feedback("porvoo", "kela", "expert", "2026-11-02", {4: 3}),
    feedback("imatra", "kela", "customer", "2026-11-02", {4: 1, 5: 1}),
    feedback("imatra", "kela", "customer", "2026-10-31", {1: 7}),
    tasks("porvoo", "session_support", "2026-11-02", 120, 3),
    tasks("porvoo", "session_support", "2026-11-03", 60, 2),
    tasks("porvoo", "reception", "2026-11-03", 45, 4),
    calls("porvoo", "r1", "2026-11-02", calls=3, acknowledged=3, ack_s_sum=90, ack_max_s=50,
          escalated=0),
    calls("porvoo", "r1", "2026-11-03", calls=2, acknowledged=1, ack_s_sum=20, ack_max_s=20,
          escalated=1),
    calls("imatra", "r1", "2026-11-02", calls=1, acknowledged=1, ack_s_sum=12, ack_max_s=12,
          escalated=0),
    calls("imatra", "r1", "2026-11-03", calls=1, acknowledged=0, ack_s_sum=0, escalated=1),
    calls("imatra", "r2", "2026-11-05", calls=1, acknowledged=0, ack_s_sum=0, escalated=1),
    calls("imatra", "r1", "2026-12-01", calls=5, acknowledged=0, ack_s_sum=0, ack_max_s=0,
          escalated=5),
    incidents("porvoo", "supplier", "equipment", "2026-11-02", opened=2, acknowledged=2,
              respond_min_sum=20, resolved=2, resolve_min_sum=120, sla_breaches=1,
              unavailable_min=30),
    incidents("porvoo", "supplier", "system", "2026-11-03", opened=1, acknowledged=1,
              respond_min_sum=10, resolved=0, resolve_min_sum=0, sla_breaches=0,
              unavailable_min=0),
    incidents("porvoo", "senaatti", "space", "2026-11-02", opened=1, acknowledged=1,
              respond_min_sum=5, resolved=1, resolve_min_sum=30, sla_breaches=0,
              unavailable_min=0),
    incidents("porvoo", "valtori", "workstation_network", "2026-11-04", opened=1,
              acknowledged=0, respond_min_sum=0, resolved=0, resolve_min_sum=0, sla_breaches=1,
              unavailable_min=0),  # still waiting for its response
    incidents("porvoo", "senaatti", "space", "2026-10-31", opened=4, acknowledged=4,
              respond_min_sum=4, resolved=4, resolve_min_sum=4, sla_breaches=4,
              unavailable_min=4),
]

# What each panel must show for November, worked out by hand from SEED; the column names are
# the statistics API's fields of the same figure (docs/telemetry.md, "Statistics aggregates").
EXPECTED = {
    ("utilisation", "utilisation by room"): {
        ("porvoo", "r1"): {"booked_pct": 37.5, "realised_pct": 31.25, "occupied_pct": 37.5},
        ("imatra", "r1"): {"booked_pct": 50, "realised_pct": 50, "occupied_pct": 50}},
    ("utilisation", "utilisation by day"): {
        ("porvoo", "r1", "2026-11-02"): {"booked_pct": 50, "realised_pct": 200 / 4.8,
                                         "occupied_pct": 62.5},
        ("porvoo", "r1", "2026-11-03"): {"booked_pct": 25, "realised_pct": 100 / 4.8,
                                         "occupied_pct": 12.5},
        ("imatra", "r1", "2026-11-02"): {"booked_pct": 50, "realised_pct": 50,
                                         "occupied_pct": 50}},
    ("utilisation", "visits by authority"): {
        ("porvoo", "kela"): {"visits": 10, "booked": 9, "walk_ins": 1, "completed": 7,
                             "no_shows": 1, "cancelled": 3, "moved": 1},
        ("porvoo", "vero"): {"visits": 2, "booked": 2, "walk_ins": 0, "completed": 2,
                             "no_shows": 0, "cancelled": 0, "moved": 0},
        ("imatra", "kela"): {"visits": 3, "booked": 3, "walk_ins": 0, "completed": 3,
                             "no_shows": 0, "cancelled": 0, "moved": 0},
        ("imatra", "vero"): {"visits": 1, "booked": 1, "walk_ins": 0, "completed": 0,
                             "no_shows": 1, "cancelled": 0, "moved": 0}},
    ("utilisation", "service time"): {
        ("porvoo", "kela"): {"realised_avg_min": 22.5},
        ("porvoo", "vero"): {"realised_avg_min": 25},
        ("imatra", "kela"): {"realised_avg_min": 15}},
    ("utilisation", "waiting time"): {
        ("porvoo", "kela"): {"wait_avg_min": 24 / 7},
        ("porvoo", "vero"): {"wait_avg_min": 3},
        ("imatra", "kela"): {"wait_avg_min": 3}},
    ("utilisation", "changes by channel"): {
        ("porvoo", "on_site", "advisor", "cancelled"): {"count": 1},
        ("porvoo", "phone_service", "phone_agent", "cancelled"): {"count": 2},
        ("porvoo", "service_number", "phone_agent", "moved"): {"count": 1}},
    ("utilisation", "feedback average"): {
        ("porvoo", "kela", "customer"): {"avg_score": 31 / 8, "count": 8},
        ("porvoo", "kela", "expert"): {"avg_score": 4, "count": 3},
        ("imatra", "kela", "customer"): {"avg_score": 4.5, "count": 2}},
    ("utilisation", "feedback distribution"): {
        ("porvoo", "customer"): {"score_1": 0, "score_2": 1, "score_3": 2, "score_4": 2,
                                 "score_5": 3},
        ("porvoo", "expert"): {"score_1": 0, "score_2": 0, "score_3": 0, "score_4": 3,
                               "score_5": 0},
        ("imatra", "customer"): {"score_1": 0, "score_2": 0, "score_3": 0, "score_4": 1,
                                 "score_5": 1}},
    ("utilisation", "answers by channel"): {
        ("porvoo", "customer", "terminal"): {"count": 6},
        ("porvoo", "customer", "sms"): {"count": 2},
        ("porvoo", "expert", "terminal"): {"count": 3},
        ("imatra", "customer", "terminal"): {"count": 2},
        ("imatra", "customer", "sms"): {"count": 0}},
    ("utilisation", "response rate"): {
        ("porvoo", "kela"): {"response_pct": 200 / 3, "asked": 3, "answered": 2},
        ("imatra", "kela"): {"response_pct": 0, "asked": 1, "answered": 0}},
    ("utilisation", "working time by task"): {
        ("porvoo", "session_support"): {"minutes": 180, "entries": 5},
        ("porvoo", "reception"): {"minutes": 45, "entries": 4}},
    ("incidents", "by party and category"): {
        ("porvoo", "supplier", "equipment"): {"opened": 2, "acknowledged": 2, "resolved": 2,
                                              "sla_breaches": 1},
        ("porvoo", "supplier", "system"): {"opened": 1, "acknowledged": 1, "resolved": 0,
                                           "sla_breaches": 0},
        ("porvoo", "senaatti", "space"): {"opened": 1, "acknowledged": 1, "resolved": 1,
                                          "sla_breaches": 0},
        ("porvoo", "valtori", "workstation_network"): {"opened": 1, "acknowledged": 0,
                                                       "resolved": 0, "sla_breaches": 1}},
    ("incidents", "SLA compliance"): {
        ("porvoo", "supplier"): {"sla_compliance_pct": 200 / 3},
        ("porvoo", "senaatti"): {"sla_compliance_pct": 100},
        ("porvoo", "valtori"): {"sla_compliance_pct": 0}},
    ("incidents", "time to respond"): {
        ("porvoo", "supplier"): {"respond_avg_min": 10},
        ("porvoo", "senaatti"): {"respond_avg_min": 5}},
    ("incidents", "time to resolve"): {
        ("porvoo", "supplier"): {"resolve_avg_min": 60},
        ("porvoo", "senaatti"): {"resolve_avg_min": 30}},
    ("incidents", "opened by day"): {
        ("porvoo", "supplier", "2026-11-02"): {"opened": 2},
        ("porvoo", "supplier", "2026-11-03"): {"opened": 1},
        ("porvoo", "senaatti", "2026-11-02"): {"opened": 1},
        ("porvoo", "valtori", "2026-11-04"): {"opened": 1}},
    ("incidents", "could not serve"): {
        ("porvoo", "r1"): {"unavailable_min": 30},
        ("imatra", "r1"): {"unavailable_min": 0}},
    ("calls", "calls by room"): {
        ("porvoo", "r1"): {"calls": 5, "acknowledged": 4, "escalated": 1},
        ("imatra", "r1"): {"calls": 2, "acknowledged": 1, "escalated": 1},
        ("imatra", "r2"): {"calls": 1, "acknowledged": 0, "escalated": 1}},
    ("calls", "time to acknowledge"): {
        ("porvoo", "r1"): {"ack_avg_s": 27.5, "ack_max_s": 50},
        ("imatra", "r1"): {"ack_avg_s": 12, "ack_max_s": 12}},
    ("calls", "calls by day"): {
        ("porvoo", "r1", "2026-11-02"): {"calls": 3},
        ("porvoo", "r1", "2026-11-03"): {"calls": 2},
        ("imatra", "r1", "2026-11-02"): {"calls": 1},
        ("imatra", "r1", "2026-11-03"): {"calls": 1},
        ("imatra", "r2", "2026-11-05"): {"calls": 1}},
}


@pytest.fixture(scope="module")
def aggregates(influxdb1):
    """The seeded daily aggregates in the dashboards' database; Grafana's range for
    "November" (``now/M`` in Helsinki: the last millisecond of the month is the end)."""
    write_lines(influxdb1.url, SEED)
    start, end = NOVEMBER
    return influxdb1.url, _ms(start), _ms(end - timedelta(milliseconds=1))


def november(aggregates, name: str, title_part: str) -> dict:
    url, start, end = aggregates
    return panel_figures(url, panel(name, title_part), start, end)


def test_every_statistics_panel_has_its_expected_figures_written_down():
    titled = {(name, part) for name, part in EXPECTED}
    for name in STATS_DASHBOARDS:
        for each in dashboard(name)["panels"]:
            assert any(n == name and part in each["title"] for n, part in titled), each["title"]


@pytest.mark.parametrize(("name", "title_part"), EXPECTED, ids=lambda p: p)
def test_statistics_panel_shows_the_seeded_months_exact_figures(aggregates, name, title_part):
    assert_panel_equals_api(EXPECTED[(name, title_part)], november(aggregates, name, title_part),
                            digits={})


def test_a_panel_is_compared_with_the_apis_rounded_figures_by_one_call(aggregates):
    # the shape /api/stats/utilisation?by=site&by=room answers: shares rounded to one decimal
    api_rows = [{"site": "porvoo", "room": "r1", "period": "2026-11", "booked_pct": 37.5,
                 "realised_pct": 31.2, "occupied_pct": 37.5},
                {"site": "imatra", "room": "r1", "period": "2026-11", "booked_pct": 50.0,
                 "realised_pct": 50.0, "occupied_pct": 50.0}]
    columns = ("booked_pct", "realised_pct", "occupied_pct")
    shown = november(aggregates, "utilisation", "utilisation by room")
    assert_panel_equals_api(figures_from_api(api_rows, ("site", "room"), columns), shown)
    api_rows[0]["realised_pct"] = 31.3
    with pytest.raises(AssertionError):
        assert_panel_equals_api(figures_from_api(api_rows, ("site", "room"), columns), shown)


def test_daily_panels_group_by_local_days_not_utc_days(aggregates):
    # the 2 November point lies at 22:00 UTC on 1 November: a UTC day would label it 1 November
    days = {key[-1] for key in november(aggregates, "calls", "calls by day")}
    assert days == {"2026-11-02", "2026-11-03", "2026-11-05"}


def test_one_site_chosen_shows_that_sites_figures_only(aggregates):
    url, start, end = aggregates
    shown = panel_figures(url, panel("calls", "calls by room"), start, end, ("imatra",))
    assert set(shown) == {("imatra", "r1"), ("imatra", "r2")}


def test_site_variable_of_each_statistics_dashboard_lists_the_seeded_sites(aggregates):
    url, _, _ = aggregates
    for name in STATS_DASHBOARDS:
        (variable,) = dashboard(name)["templating"]["list"]
        result = influx(url, "/query", db=DATABASE, q=variable["query"])["results"][0]
        sites = {value for _, value in result["series"][0]["values"]}
        assert sites == {"porvoo", "imatra"}, name


def test_every_statistics_panel_answers_with_a_site_tag_on_every_series(aggregates):
    url, start, end = aggregates
    for name in STATS_DASHBOARDS:
        for each in dashboard(name)["panels"]:
            series = run_panel(url, each, start, end)
            assert series and all("site" in s["tags"] for s in series), each["title"]


def test_statistics_panels_read_only_measurements_tags_and_fields_the_aggregates_write():
    try:
        from cloud.stats.daily import MEASUREMENTS
    except ModuleNotFoundError:
        pytest.skip("the statistics domain is not in this tree")
    for name in STATS_DASHBOARDS:
        for each in dashboard(name)["panels"]:
            query = each["targets"][0]["query"]
            (measurement,) = set(re.findall(r'FROM "(stats_\w+)"', query))
            _, tags, fields = MEASUREMENTS[measurement]
            inner = query.rsplit("FROM", 1)[0] if "(SELECT" in query else query
            read = set(re.findall(r'(?:sum|max)\("(\w+)"\)', inner))
            grouped = set(re.findall(r'"(\w+)"', query.rsplit("GROUP BY", 1)[1]))
            assert read and read <= set(fields) and grouped <= set(tags), each["title"]
