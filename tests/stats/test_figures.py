"""The pure figure rules without I/O: percentiles, suppression, minutes inside opening hours,
occupancy spans and local days across the change of daylight saving time."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cloud.sites.hours import HELSINKI, Interval, OpeningHours
from cloud.stats.figures import minutes_inside, percentile, period_of, suppress
from cloud.stats.service import day_range
from cloud.stats.sources import occupied_spans


def test_percentiles_are_nearest_rank_values_that_occurred():
    assert percentile([25, 30, 25], 50) == 25
    assert percentile([30, 60, 90, 120, 150], 90) == 150
    assert percentile([10], 90) == 10 and percentile([], 50) is None


def test_counts_of_one_to_four_and_what_rests_on_them_are_suppressed_zero_and_five_are_not():
    rows = [{"period": "2026-11", "calls": 5, "acknowledged": 4, "ack_p50_s": 30,
             "ack_p90_s": 40, "ack_max_s": 50, "escalated": 0, "ack_s_sum": 120}]
    (row,) = suppress("calls", rows)
    assert row["calls"] == 5 and row["escalated"] == 0
    assert row["acknowledged"] is row["ack_p50_s"] is row["ack_max_s"] is None
    assert row["suppressed"] == ["ack_max_s", "ack_p50_s", "ack_p90_s", "ack_s_sum",
                                 "acknowledged"]


def test_minutes_count_only_inside_opening_hours_and_overlaps_once():
    hours = OpeningHours()  # Mon-Fri 09-15
    monday = date(2026, 11, 2)
    open_ = hours.intervals(monday)
    nine = datetime(2026, 11, 2, 9, 0, tzinfo=HELSINKI)
    early = Interval(nine - timedelta(hours=1), nine + timedelta(minutes=30))
    overlapping = Interval(nine + timedelta(minutes=15), nine + timedelta(minutes=45))
    assert minutes_inside([early, overlapping], open_) == 45.0


def test_a_room_occupied_before_the_range_and_still_at_its_end_counts_the_whole_range():
    start, end = datetime(2026, 11, 2, 7, tzinfo=UTC), datetime(2026, 11, 2, 13, tzinfo=UTC)
    events = [("porvoo", "r1", True, start - timedelta(days=2)),
              ("imatra", "r1", True, start + timedelta(hours=1)),
              ("imatra", "r1", True, start + timedelta(hours=2)),  # a repeat changes nothing
              ("imatra", "r1", False, start + timedelta(hours=3))]
    spans = {(s.site, s.room): (s.start, s.end) for s in occupied_spans(events, start=start,
                                                                        end=end)}
    assert spans == {("porvoo", "r1"): (start, end),
                     ("imatra", "r1"): (start + timedelta(hours=1), start + timedelta(hours=3))}


def test_the_local_day_of_the_autumn_clock_change_has_twenty_five_hours():
    start, end = day_range(date(2026, 10, 25), date(2026, 10, 25))
    assert end - start == timedelta(hours=25)
    assert period_of(date(2026, 10, 25), "week") == "2026-W43"
    assert period_of(date(2026, 11, 2), "weekday") == "mon"
