"""Times, dates, durations and numbers read the same on every page, message and report, in
Finnish, Swedish and English (``cloud.formats`` and the pages' filters). Pure."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cloud import formats
from cloud.web.templating import environment

NBSP = "\u00a0"
# Monday 7 December 2026, 09:05:30 in Helsinki (UTC+2)
AT = datetime(2026, 12, 7, 7, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "four_hours", "long"), [
    ("fi", "4 t 0 min", f"1{NBSP}234 t 5 min"),
    ("sv", "4 h 0 min", f"1{NBSP}234 h 5 min"),
    ("en", "4 h 0 min", "1,234 h 5 min"),
])
def test_a_duration_reads_hours_and_minutes_in_each_language(lang, four_hours, long):
    assert formats.duration(lang, timedelta(hours=4)) == four_hours
    assert formats.duration(lang, timedelta(hours=1234, minutes=5)) == long
    assert formats.duration(lang, timedelta(minutes=45)) == "45 min"
    assert formats.minutes(lang, 240) == four_hours


def test_a_duration_rounds_up_to_the_minute_so_none_left_reads_zero():
    assert formats.duration("fi", timedelta(seconds=1)) == "1 min"
    assert formats.duration("fi", timedelta(0)) == "0 min"
    assert formats.duration("fi", timedelta(minutes=59, seconds=1)) == "1 t 0 min"


@pytest.mark.parametrize(("lang", "whole", "decimal"), [
    ("fi", f"7{NBSP}560", f"7{NBSP}560,5"),
    ("sv", f"7{NBSP}560", f"7{NBSP}560,5"),
    ("en", "7,560", "7,560.5"),
])
def test_numbers_are_written_in_the_languages_style(lang, whole, decimal):
    assert formats.number(lang, 7560) == whole
    assert formats.number(lang, 7560.5) == decimal
    assert formats.number(lang, 3.0) == ("3.0" if lang == "en" else "3,0")
    assert formats.number(lang, 2.345, 2) == ("2.35" if lang == "en" else "2,35")


def test_local_times_and_dates_are_in_the_zone_given():
    assert formats.clock(AT) == "09:05"
    assert formats.clock(AT, seconds=True) == "09:05:30"
    assert formats.clock(AT, ZoneInfo("Europe/Stockholm")) == "08:05"
    assert formats.clock(None) == ""
    assert formats.day_text(date(2026, 12, 7)) == "7.12.2026"
    assert formats.day_text(AT, year=False) == "7.12."
    assert formats.moment(AT) == "7.12.2026 09:05"
    assert formats.moment(None) == "–"


def test_an_instant_shows_its_day_only_when_it_is_not_today():
    assert formats.when(AT, AT) == "09:05"
    assert formats.when(AT + timedelta(days=1), AT) == "8.12. 09:05"
    # 23:30 UTC on the 6th is already the 7th in Helsinki
    assert formats.when(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), AT) == "01:30"


@pytest.mark.parametrize(("lang", "expected"), [
    ("fi", "09:05 · 7.12.2026 · 4 t 0 min · 7\u00a0560,5 · 45 min"),
    ("en", "09:05 · 7.12.2026 · 4 h 0 min · 7,560.5 · 45 min"),
])
def test_the_pages_filters_format_in_the_pages_language_and_zone(lang, expected):
    page = environment().from_string(
        "{{ at|clock }} · {{ at|day }} · {{ span|duration }} · {{ 7560.5|number }} · "
        "{{ 45|minutes }}")
    assert page.render(lang=lang, at=AT, span=timedelta(hours=4)) == expected
    zoned = environment().from_string("{{ at|clock }} {{ at|moment(other) }}")
    assert zoned.render(lang=lang, at=AT, zone=ZoneInfo("Europe/Stockholm"),
                        other=ZoneInfo("Europe/Helsinki")) == "08:05 7.12.2026 09:05"
