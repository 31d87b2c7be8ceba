"""The seeded month's figures are exactly the ones worked out by hand from the seed, on SQLite
and PostgreSQL, and the purge of personal data (and the end of the event log's retention)
leaves every one of them unchanged."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from cloud.bookings.models import Booking
from cloud.flows.purge import purge_personal_data
from cloud.stats import service
from cloud.stats.daily import DailyStatistics
from cloud.stats.figures import FAMILIES
from cloud.twin.models import DeviceEvent
from cloud.twin.service import purge_events
from tests.stats import seed
from tests.stats.seams import SOURCES

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def rows(session, registry, family, by, period="month", **scope):
    return service.answer(session, registry=registry, sources=SOURCES, family=family,
                          first=FIRST, last=LAST, period=period, by=by, now=seed.NOW, **scope)


def values(row):
    return {k: v for k, v in row.items() if k not in ("period", *FAMILIES_DIMS)}


FAMILIES_DIMS = {d for f in FAMILIES.values() for d in f.dims}


def test_the_seeded_month_gives_the_figures_worked_out_by_hand(seeded):
    _, sessions, registry = seeded
    with sessions() as s:
        utilisation = rows(s, registry, "utilisation", ["site", "room"])
        assert {(r["site"], r["room"]): values(r) for r in utilisation} == seed.UTILISATION
        assert {r["period"] for r in utilisation} == {"2026-11"}
        (porvoo,) = rows(s, registry, "visits", ["site"])
        assert porvoo["site"] == "porvoo" and values(porvoo) == seed.VISITS_PORVOO
        kela = [r for r in rows(s, registry, "visits", ["authority"]) if r["authority"] == "kela"]
        assert values(kela[0]) == seed.VISITS_KELA
        changes = rows(s, registry, "changes", ["channel", "by", "action"])
        assert {(r["channel"], r["by"], r["action"]): r["count"] for r in changes} == \
            seed.CHANGES
        feedback = rows(s, registry, "feedback", ["giver", "channel"])
        assert {(r["giver"], r["channel"]): values(r) for r in feedback} == seed.FEEDBACK
        (calls,) = rows(s, registry, "calls", ["site", "room"])
        assert values(calls) == seed.CALLS
        incidents = rows(s, registry, "incidents", ["site", "party"])
        assert {(r["site"], r["party"]): values(r) for r in incidents} == seed.INCIDENTS
        tasks = rows(s, registry, "tasks", ["task"])
        assert {r["task"]: r["minutes"] for r in tasks} == seed.TASKS


def test_figures_by_day_and_week_fall_on_the_local_days_of_helsinki(seeded):
    _, sessions, registry = seeded
    with sessions() as s:
        by_day = {r["period"]: r["calls"] for r in rows(s, registry, "calls", [], "day")}
        # pressed 31.10. 22:30 UTC is 1.11. 00:30 in Helsinki; 30.11. 22:30 UTC is December
        assert by_day == {"2026-11-01": 1, "2026-11-02": 5}
        weeks = {r["period"]: r["visits"] for r in rows(s, registry, "visits", [], "week")}
        assert weeks == {"2026-W45": 8, "2026-W46": 2}  # the walk-ins on Monday 9.11.
        weekdays = {r["period"]: r["open_min"] for r in rows(
            s, registry, "utilisation", [], "weekday", sites=["imatra"])}
        assert weekdays == {"mon": 1800.0, "tue": 1440.0, "wed": 1440.0, "thu": 1440.0,
                            "fri": 1200.0, "sat": 0.0, "sun": 0.0}


def every_figure(sessions, registry) -> dict:
    with sessions() as s:
        return {(family, period, tuple(by)): rows(s, registry, family, by, period)
                for family, spec in FAMILIES.items() for period in ("day", "month")
                for by in ([], list(spec.dims))}


def test_the_purge_and_the_end_of_the_event_logs_retention_leave_every_figure_unchanged(
        seeded):
    _, sessions, registry = seeded
    before = every_figure(sessions, registry)
    daily = DailyStatistics(registry, SOURCES, write=None)
    with sessions() as s:  # the schedule's statistics step, every day of the month and after
        now = datetime(2026, 11, 2, 3, 0, tzinfo=seed.NOW.tzinfo)
        while now < seed.NOW:
            daily.run(s, now=now)
            s.commit()
            now += timedelta(days=1)
    later = datetime(2027, 6, 1, 10, 0, tzinfo=seed.NOW.tzinfo)
    with sessions() as s:
        assert purge_personal_data(s, now=later, retention=timedelta(days=30)) == 14
        assert purge_events(db=s, before=later) == 6
        s.commit()
        assert s.scalar(select(func.count()).select_from(Booking).where(
            Booking.customer_name.is_not(None))) == 0
        assert s.scalar(select(func.count()).select_from(DeviceEvent)) == 0
    after = every_figure(sessions, registry)
    assert after == before
    assert after[("utilisation", "month", ())][0]["occupied_min"] == 270.0
