"""The expert's console: the sessions of the expert's own authority today at every site, the
customer's arrival as the advisor records it and the room's occupancy, a link to each
session; nothing of another authority."""
from __future__ import annotations

import re

import pytest

from cloud.bookings import service as bookings
from cloud.sessions import service as sessions
from cloud.twin.models import RoomOccupancy
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.pages import served, staff_page

pytestmark = pytest.mark.browser


def test_an_expert_sees_only_their_authoritys_sessions_with_the_customers_arrival(chromium,
                                                                                   app):
    ids = app.state.booking_ids
    with app.state.sessionmaker() as db:  # Asiakas A has come and is in the room
        bookings.check_in(db, booking=bookings.booking_by_id(db, booking_id=ids["Asiakas A"]),
                          actor="adv-porvoo", now=NOW)
        db.add(RoomOccupancy(site="porvoo", room="r1", occupied=True, since=NOW, seq=1,
                             device_ts=0))
        db.commit()
    app.state.clock.now = NOW.replace(minute=35)  # 10:35: the visit runs
    with served(app) as base, staff_page(chromium, base, "exp-kela", PASSWORD) as page:
        assert page.url == f"{base}/console/expert"
        rows = page.locator("tbody tr")
        assert rows.count() == 2
        porvoo, imatra = rows.filter(has_text="Porvoo-info"), rows.filter(has_text="Imatra")
        assert "Asiakas A" in porvoo.inner_text()
        assert porvoo.get_attribute("data-arrival") == "in_room"
        assert "Tilassa" in porvoo.inner_text()
        assert "Asiakas D" in imatra.inner_text() and imatra.get_attribute("data-arrival") == "due"
        text = page.locator("main").inner_text()
        for other in ("Asiakas B", "Asiakas C", "Asiakas E"):  # DVV, Vero, the Police
            assert other not in text
        porvoo.get_by_role("button").click()  # the visit's video session, opened on first use
        page.wait_for_url(re.compile(rf"{base}/sessions/\d+$"))
        opened = int(page.url.rsplit("/", 1)[1])
        with app.state.sessionmaker() as db:
            assert sessions.get(db=db, session_id=opened).booking_id == ids["Asiakas A"]
        page.go_back()
        page.locator("tbody tr").filter(has_text="Porvoo-info").get_by_role("button").click()
        page.wait_for_url(f"{base}/sessions/{opened}")  # the same session, not a second one
    with served(app) as base, staff_page(chromium, base, "exp-vero", PASSWORD) as page:
        assert [r.inner_text().split("\t")[0] for r in page.locator("tbody tr").all()] == \
            ["13:00–14:00"]
        assert "Asiakas A" not in page.locator("main").inner_text()


def test_an_expert_cannot_open_an_advisors_console_and_an_advisor_not_the_experts(chromium,
                                                                                  app):
    with served(app) as base, staff_page(chromium, base, "exp-kela", PASSWORD) as page:
        assert page.goto(f"{base}/console/advisor?site=porvoo").status == 403
        assert page.goto(f"{base}/console/advisor/tasks?site=porvoo").status == 403
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        assert page.goto(f"{base}/console/expert").status == 403


def test_the_experts_day_shows_the_customers_arrival_without_a_reload(chromium, app):
    app.state.console_refresh_ms = 300
    booking = app.state.booking_ids["Asiakas A"]
    with served(app) as base, staff_page(chromium, base, "exp-kela", PASSWORD) as page:
        row = page.locator(f"#visit-{booking}")
        assert row.get_attribute("data-arrival") == "due"
        with app.state.sessionmaker() as db:  # the advisor checks the customer in
            bookings.check_in(db, booking=bookings.booking_by_id(db, booking_id=booking),
                              actor="adv-porvoo", now=NOW)
            db.commit()
        page.locator(f"#visit-{booking}[data-arrival=checked_in]").wait_for(timeout=10_000)
