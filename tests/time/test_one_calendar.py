"""One weekly-hours parser, one Finnish public-holiday calendar and one zone rule: a site's
opening hours and a support party's SLA desk hours read their hours the same way and close on
the same days. Pure: the packaged registry and responsibility matrix, a fixed instant."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cloud.incidents.matrix import SAMPLE_MATRIX, Hours, load_matrix
from cloud.registry import load_registry
from cloud.sites.calendar import FINNISH_HOLIDAYS
from cloud.sites.hours import DEFAULT_ZONE, WeeklyHours, day_window, site_zone
from cloud.sites.service import weekly_hours

REGISTRY = load_registry()
MATRIX = load_matrix(SAMPLE_MATRIX, list(REGISTRY.sites))
HKI = ZoneInfo("Europe/Helsinki")
THIRTY = timedelta(minutes=30)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HKI)


def test_the_support_desk_and_the_site_read_their_weekly_hours_with_one_parser():
    desk = MATRIX.party("supplier").hours.service_hours()
    assert desk.service == WeeklyHours.parse({"mon-fri": ["08:00-16:15"]})
    assert WeeklyHours.parse({"mon-fri": "08:00-16:15"}) == desk.service
    assert REGISTRY.sites["porvoo"].service_week == WeeklyHours.parse({"mon-fri": "09:00-15:00"})


def test_a_desk_that_closes_before_it_opens_is_refused_at_load():
    with pytest.raises(ValueError, match="run forward"):
        Hours(weekly={"mon-fri": "16:00-08:00"})
    with pytest.raises(ValueError, match="weekday"):
        Hours(weekly={"mon-sun-ish": "08:00-16:00"})


def test_the_desk_and_the_site_close_on_the_same_holidays():
    desk = MATRIX.clock("supplier").hours
    site = weekly_hours(REGISTRY, site="porvoo")
    assert desk.holidays is site.holidays is FINNISH_HOLIDAYS
    for holiday in (date(2026, 6, 19), date(2026, 12, 6), date(2026, 12, 24)):
        assert holiday in FINNISH_HOLIDAYS
        assert desk.intervals(holiday) == [] and site.intervals(holiday) == []


def test_the_sla_desk_hours_skip_midsummer_eve():
    # Thursday 18.6.2026 at 16:00: 15 minutes left that day; Midsummer Eve (Friday) and the
    # weekend are closed, so the clock runs out on Monday at 08:15
    assert MATRIX.clock("supplier").due(local(2026, 6, 18, 16, 0), THIRTY) == local(
        2026, 6, 22, 8, 15)
    assert not weekly_hours(REGISTRY, site="porvoo").is_open(local(2026, 6, 19, 10, 0))


def test_the_sla_desk_hours_skip_independence_day_on_a_monday():
    # Independence Day 2027 is a Monday: a fault on Friday 3.12. at 16:00 is due Tuesday
    assert MATRIX.clock("supplier").due(local(2027, 12, 3, 16, 0), THIRTY) == local(
        2027, 12, 7, 8, 15)
    assert MATRIX.clock("supplier").elapsed(local(2027, 12, 6, 8, 0),
                                            local(2027, 12, 6, 16, 0)) == timedelta(0)


def test_a_round_the_clock_desk_keeps_running_on_holidays():
    security = MATRIX.clock("porvoo-security")
    assert security.due(local(2026, 12, 24, 23, 50), timedelta(minutes=15)) == local(
        2026, 12, 25, 0, 5)


def test_a_sites_zone_comes_from_the_registry_and_is_helsinki_by_default():
    assert site_zone(REGISTRY, "porvoo") == HKI
    assert site_zone(REGISTRY, "no-such-site") == DEFAULT_ZONE == HKI
    raw = REGISTRY.model_dump()
    raw["sites"]["porvoo"]["timezone"] = "Europe/Stockholm"
    registry = type(REGISTRY).model_validate(raw)
    assert site_zone(registry, "porvoo") == ZoneInfo("Europe/Stockholm")
    assert weekly_hours(registry, site="porvoo").tz == ZoneInfo("Europe/Stockholm")


def test_an_unknown_zone_is_refused_when_the_files_load():
    with pytest.raises(ValueError, match="Europe/Nowhere"):
        Hours(weekly={"mon-fri": "08:00-16:00"}, timezone="Europe/Nowhere")
    raw = REGISTRY.model_dump()
    raw["sites"]["porvoo"]["timezone"] = "Europe/Nowhere"
    with pytest.raises(ValueError, match="Europe/Nowhere"):
        type(REGISTRY).model_validate(raw)


def test_a_local_day_lasts_23_or_25_hours_when_the_clocks_change():
    spring, autumn = day_window(date(2026, 3, 29)), day_window(date(2026, 10, 25))
    assert spring.end - spring.start == timedelta(hours=23)
    assert autumn.end - autumn.start == timedelta(hours=25)
