"""The advisors' task-time log: taps add minutes, a field corrects them, only today's log is
the advisor's own to edit, concurrent taps all count, and the statistics read the entries by
day; on SQLite and on PostgreSQL. The page in a real browser, in a few taps."""
from __future__ import annotations

import re
import shutil
import threading
from datetime import date, timedelta

import pytest

from cloud.consoles import service
from cloud.consoles.rules import TASKS
from cloud.db import make_engine, make_sessionmaker, migrate
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.pages import assert_accessible, at_both_widths, served, staff_page

DAY = date(2026, 11, 16)


def tap(what, task: str) -> re.Pattern:
    """A task's button by its accessible name: its visible text, then the task."""
    text = f"+{what} min" if isinstance(what, int) else what
    return re.compile(rf"^{re.escape(text)}\W+{re.escape(task)}$")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request, tmp_path, migrated_file):
    """Sessions of a migrated, empty store on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        shutil.copy(migrated_file, tmp_path / "store.sqlite")
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        name = f"ct_{request.node.name}".translate(str.maketrans("[]-", "___")).lower()[:60]
        url = request.getfixturevalue("postgres").create_database(name)
        migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_taps_add_minutes_and_a_correction_sets_them(sessions):
    with sessions() as db:
        for minutes in (5, 5, 15):
            service.add_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="meeting",
                                minutes=minutes, now=NOW)
        service.set_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="equipment",
                            minutes=40, now=NOW)
        service.add_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="equipment",
                            minutes=-50, now=NOW)  # an undo never goes below zero
        db.commit()
        logged = service.day_minutes(db, site="porvoo", advisor_id=7, day=DAY)
    assert list(logged) == list(TASKS)
    assert (logged["meeting"], logged["equipment"], logged["safety"]) == (25, 0, 0)


def test_an_unknown_task_is_refused(sessions):
    with sessions() as db, pytest.raises(ValueError, match="unknown task"):
        service.add_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="coffee",
                            minutes=5, now=NOW)


def test_taps_from_two_consoles_at_once_all_count(sessions):
    barrier = threading.Barrier(2)

    def tap_twenty_times():
        barrier.wait(timeout=10)
        for _ in range(20):
            with sessions() as db:
                service.add_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="guiding",
                                    minutes=5, now=NOW)
                db.commit()

    workers = [threading.Thread(target=tap_twenty_times) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    with sessions() as db:
        assert service.day_minutes(db, site="porvoo", advisor_id=7, day=DAY)["guiding"] == 200


def test_the_statistics_read_entries_by_local_day_site_and_advisor(sessions):
    with sessions() as db:
        for day, site, advisor, task, minutes in (
                (DAY, "porvoo", 7, "meeting", 10), (DAY, "porvoo", 8, "safety", 5),
                (DAY + timedelta(days=1), "imatra", 9, "documents", 15),
                (DAY + timedelta(days=30), "porvoo", 7, "meeting", 99)):
            service.add_minutes(db, site=site, advisor_id=advisor, day=day, task=task,
                                minutes=minutes, now=NOW)
        db.commit()
        rows = service.task_entries_between(db=db, start=DAY, end=DAY + timedelta(days=2))
        # instants are taken as their Helsinki days: 22:30 UTC on the 15th is the 16th there
        from datetime import UTC, datetime
        by_instant = service.task_entries_between(
            db=db, start=datetime(2026, 11, 15, 22, 30, tzinfo=UTC),
            end=datetime(2026, 11, 16, 22, 30, tzinfo=UTC))
    assert [(r.site, r.advisor_id, r.task, r.day, r.minutes) for r in rows] == [
        ("imatra", 9, "documents", DAY + timedelta(days=1), 15),
        ("porvoo", 7, "meeting", DAY, 10), ("porvoo", 8, "safety", DAY, 5)]
    assert {(r.advisor_id, r.task) for r in by_instant} == {(7, "meeting"), (8, "safety")}


@pytest.mark.browser
def test_an_advisor_records_the_days_task_time_in_a_few_taps(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor/tasks") as page:
        page.get_by_role("button", name=tap(5, "Asiakkaan vastaanotto")).click()
        page.wait_for_load_state()
        page.get_by_role("button", name=tap(5, "Asiakkaan vastaanotto")).click()
        page.wait_for_load_state()
        page.get_by_role("button", name=tap(15, "Laitteissa ja vioissa avustaminen")).click()
        page.wait_for_load_state()
        page.get_by_label("Minuutit: Opastus tiloissa").fill("20")
        page.get_by_role("button", name=tap("Tallenna", "Opastus tiloissa")).click()
        page.wait_for_load_state()
        assert page.get_by_label("Minuutit: Asiakkaan vastaanotto").input_value() == "10"
        assert page.get_by_label("Minuutit: Laitteissa ja vioissa avustaminen").input_value() \
            == "15"
        assert "Yhteensä: 45 min" in page.locator(".total").inner_text()
        page.get_by_label("Minuutit: Opastus tiloissa").fill("lots")
        page.get_by_role("button", name=tap("Tallenna", "Opastus tiloissa")).click()
        page.wait_for_load_state()
        assert "kokonaislukuna" in page.locator(".error-summary").inner_text()
        at_both_widths(page, "consoles-tasks-error-fi")
        assert_accessible(page)
    with app.state.sessionmaker() as db:
        rows = service.task_entries_between(db=db, start=DAY, end=DAY + timedelta(days=1))
    assert {(r.site, r.task, r.minutes) for r in rows} == {
        ("porvoo", "meeting", 10), ("porvoo", "equipment", 15), ("porvoo", "guiding", 20)}


def test_the_statistics_read_the_task_time_log_through_the_installed_source(sessions):
    from datetime import UTC, datetime

    from cloud.stats.sources import installed_sources

    with sessions() as db:
        service.add_minutes(db, site="porvoo", advisor_id=7, day=DAY, task="meeting",
                            minutes=10, now=NOW)
        db.commit()
        rows = installed_sources().task_entries(
            db=db, start=datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=2),
            end=datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=2))
    assert [(r.site, r.task, r.day, r.minutes) for r in rows] == [("porvoo", "meeting", DAY, 10)]
