"""The SLA clock: business time across evenings, weekends, holidays and DST changes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.incidents.hours import SlaClock
from cloud.incidents.matrix import Hours

HKI = ZoneInfo("Europe/Helsinki")
SUPPLIER_HOURS = Hours(weekly={"mon-fri": "08:00-16:15"}, holidays="FI")
SUPPLIER = SlaClock(SUPPLIER_HOURS.service_hours())
THIRTY = timedelta(minutes=30)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HKI)


def test_a_normal_fault_at_friday_1600_is_due_the_next_working_day():
    assert SUPPLIER.due(local(2026, 11, 27, 16, 0), THIRTY) == local(2026, 11, 30, 8, 15)


def test_a_fault_before_opening_is_due_thirty_minutes_after_opening():
    assert SUPPLIER.due(local(2026, 11, 24, 6, 30), THIRTY) == local(2026, 11, 24, 8, 30)


def test_a_fault_inside_hours_is_due_thirty_minutes_later():
    assert SUPPLIER.due(local(2026, 11, 24, 10, 0), THIRTY) == local(2026, 11, 24, 10, 30)


def test_a_critical_fault_after_hours_keeps_the_clock_running():
    assert SUPPLIER.due(local(2026, 11, 27, 20, 0), THIRTY, critical=True) == local(
        2026, 11, 27, 20, 30)
    assert SUPPLIER.due(local(2026, 11, 27, 16, 0), THIRTY, critical=True) == local(
        2026, 11, 27, 16, 30)
    assert SUPPLIER.elapsed(local(2026, 11, 27, 16, 0), local(2026, 11, 28, 16, 0),
                            critical=True) == timedelta(hours=24)


def test_a_fault_before_a_public_holiday_is_due_after_it():
    # Wednesday before Ascension Day (Thursday 14.5.2026): 5 minutes left on Wednesday
    assert SUPPLIER.due(local(2026, 5, 13, 16, 10), THIRTY) == local(2026, 5, 15, 8, 25)


def test_a_fault_before_christmas_waits_for_the_monday_after():
    # 23.12.2026 is a Wednesday; Christmas Eve, Christmas Day and the weekend follow
    assert SUPPLIER.due(local(2026, 12, 23, 16, 0), THIRTY) == local(2026, 12, 28, 8, 15)


def test_a_fault_on_new_years_eve_is_due_after_new_years_day_and_the_weekend():
    assert SUPPLIER.due(local(2026, 12, 31, 16, 0), THIRTY) == local(2027, 1, 4, 8, 15)


def test_a_fault_before_the_autumn_dst_weekend_counts_wall_clock_hours_on_monday():
    due = SUPPLIER.due(local(2026, 10, 23, 16, 0), THIRTY)
    assert due == local(2026, 10, 26, 8, 15)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 6, 15, tzinfo=UTC)


def test_a_fault_before_the_spring_dst_weekend_counts_wall_clock_hours_on_monday():
    due = SUPPLIER.due(local(2026, 3, 27, 16, 0), THIRTY)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 5, 15, tzinfo=UTC)


def test_elapsed_counts_only_service_hours():
    assert SUPPLIER.elapsed(local(2026, 11, 27, 16, 0), local(2026, 11, 30, 8, 15)) == THIRTY
    assert SUPPLIER.elapsed(local(2026, 11, 28, 9, 0), local(2026, 11, 29, 9, 0)) == timedelta(0)


def test_breach_is_judged_against_the_due_time():
    start = local(2026, 11, 27, 16, 0)
    assert not SUPPLIER.breached(start, THIRTY, local(2026, 11, 28, 12, 0))
    assert SUPPLIER.breached(start, THIRTY, local(2026, 11, 30, 8, 16))


def test_a_round_the_clock_party_is_always_open():
    always = SlaClock(Hours(always=True).service_hours())
    assert always.due(local(2026, 12, 24, 23, 50), THIRTY) == local(2026, 12, 25, 0, 20)


@settings(max_examples=300, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                          timezones=st.just(UTC)),
       minutes=st.integers(min_value=1, max_value=3000))
def test_the_clock_time_until_the_due_instant_is_the_time_allowed(start, minutes):
    allowed = timedelta(minutes=minutes)
    due = SUPPLIER.due(start, allowed)
    assert SUPPLIER.elapsed(start, due) == allowed
    assert SUPPLIER.hours.is_open(due - timedelta(microseconds=1))
