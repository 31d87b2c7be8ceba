"""The demo as a new user meets it: the sample advisor of Porvoo logs in and lands on
Porvoo's console, with the demo's simulated room live in the twin and the demo's visits
booked for the first day that still has free times; ``etapalvelu sim press porvoo r1`` rings
it."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from cloud.sites.hours import HELSINKI
from etapalvelu.demo import DEMO_PASSWORD
from tests.cloud.test_demo import demo_env, running_demo
from tests.pages import at_both_widths, staff_page

pytestmark = pytest.mark.browser


def _bookable_today(now: datetime) -> bool:
    """Whether Porvoo still takes a 30-minute visit today (Mon-Fri 09-15, Fri building
    until 15; holidays aside)."""
    local = now.astimezone(HELSINKI)
    return local.weekday() < 5 and local.hour * 60 + local.minute < 14 * 60 + 20


def test_the_demo_advisor_sees_porvoos_console_with_its_room_and_visits_and_a_press_rings(
        tmp_path, chromium):
    with running_demo(tmp_path) as demo:
        demo.wait_rooms_online()
        base = f"http://127.0.0.1:{demo.web}"
        started = datetime.now(UTC)
        with staff_page(chromium, base, "demo-advisor", DEMO_PASSWORD) as page:
            assert page.url == f"{base}/console/advisor"
            assert "Porvoo-info" in page.get_by_role("heading", level=1).inner_text()
            room = page.locator("#room-r1")
            assert "Porvoo-infon neuvotteluhuone" in room.inner_text()
            assert room.get_attribute("data-condition") in ("ready", "degraded")
            if _bookable_today(started - timedelta(minutes=1)):
                assert page.locator("tr.visit").count() >= 1
                assert "Asiakas A" in page.locator("tr.visit").first.inner_text()
            at_both_widths(page, "consoles-demo-advisor")
            pressed = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "sim", "press",
                                      "porvoo", "r1", "--api", base], env=demo_env(),
                                     capture_output=True, text=True, timeout=60, check=False)
            assert pressed.returncode == 0, pressed.stderr
            banner = page.locator("#call-list li")
            banner.wait_for(timeout=10_000)
            assert "Kutsu: Porvoo-infon neuvotteluhuone, Porvoo-info" in banner.inner_text()
            at_both_widths(page, "consoles-demo-alert")


@pytest.fixture
def store(tmp_path, migrated_file):
    import shutil

    from cloud.db import make_engine, make_sessionmaker

    shutil.copy(migrated_file, tmp_path / "demo.sqlite")
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.mark.parametrize("now,day", [
    (datetime(2026, 11, 16, 8, 10, tzinfo=UTC), "2026-11-16"),   # Monday 10:10: today
    (datetime(2026, 11, 20, 13, 30, tzinfo=UTC), "2026-11-23"),  # Friday 15:30: next Monday
], ids=["open-today", "closed-for-today"])
def test_the_demo_books_its_visits_once_on_the_first_day_with_free_times(store, now, day):
    from cloud.bookings import service
    from cloud.registry import load_registry
    from etapalvelu.demo import add_demo_bookings

    registry = load_registry()
    assert add_demo_bookings(store, registry, now=now) == 4
    assert add_demo_bookings(store, registry, now=now) == 0  # a restart books nothing more
    with store() as session:
        booked = service.bookings_between(session, start=now, end=now + timedelta(days=7),
                                          site="porvoo")
    assert {b.start.astimezone(HELSINKI).date().isoformat() for b in booked} == {day}
    assert [b.customer_name for b in booked] == ["Asiakas A", "Asiakas B", "Asiakas C",
                                                 "Asiakas D"]
