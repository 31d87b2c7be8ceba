"""The advisor's console in a real browser: today's bookings of the advisor's own site, a
check-in and a walk-in through plain forms (also by keyboard alone), the rooms and incidents,
the refusals of the booking rules said in an error summary, and the day refreshed without a
reload."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from cloud.incidents import service as incidents
from cloud.incidents.matrix import load_matrix
from cloud.incidents.settings import IncidentSettings
from cloud.twin.models import DeviceState
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW, local
from tests.consoles.helpers import logged_in, post_form, tab_to
from tests.pages import assert_accessible, at_both_widths, served, staff_page

pytestmark = pytest.mark.browser


def _row(page, customer: str):
    return page.locator("tr.visit", has_text=customer)


def test_an_advisor_sees_todays_bookings_checks_a_customer_in_and_books_a_walk_in(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        assert page.url == f"{base}/console/advisor"
        assert page.get_by_role("heading", level=1).inner_text() == \
            "Palveluneuvojan näkymä: Porvoo-info"
        rows = page.locator("tr.visit")
        assert [r.inner_text().split("\t")[0] for r in rows.all()] == \
            ["10:30–11:00", "11:30–12:00", "13:00–14:00"]
        assert "Kela" in _row(page, "Asiakas A").inner_text()
        assert page.locator("tr.visit", has_text="Asiakas D").count() == 0  # Imatra's
        assert _row(page, "Asiakas A").get_attribute("data-status") == "due"
        assert "Käyttövalmis" in page.locator("#room-r1").inner_text()  # the twin says ready

        check_in = re.compile("Kirjaa saapuneeksi")
        _row(page, "Asiakas A").get_by_role("button", name=check_in).click()
        page.wait_for_load_state()
        assert page.get_by_role("status").filter(has_text="saapuneeksi").is_visible()
        assert _row(page, "Asiakas A").get_attribute("data-status") == "checked_in"

        page.get_by_label("Palvelu", exact=True).first.select_option("kela-benefits")
        page.locator("#walkin-name").fill("Asiakas W")
        page.get_by_role("button", name="Varaa vapaa tila nyt").click()
        page.wait_for_load_state()
        assert "ohjattiin tilaan Porvoo-infon neuvotteluhuone" in page.locator(
            "#done-notice").inner_text()
        walk_in = _row(page, "Asiakas W")
        assert walk_in.get_attribute("data-status") == "checked_in"
        assert walk_in.inner_text().startswith("10:00–10:30")
        at_both_widths(page, "consoles-advisor-after-walk-in-fi")
        assert_accessible(page)
        # the customer is in the room: the advisor opens the visit's video session for them
        walk_in.get_by_role("button", name="Avaa videotapaaminen").click()
        page.wait_for_url(re.compile(rf"{base}/sessions/\d+$"))


def test_the_advisors_main_flow_works_by_keyboard_alone(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        page.locator("body").focus()
        tab_to(page, "#visit-{} .actions button".format(app.state.booking_ids["Asiakas A"]))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert _row(page, "Asiakas A").get_attribute("data-status") == "checked_in"

        page.locator("body").focus()
        tab_to(page, "#walkin-service")
        page.keyboard.press("Tab")  # the length: 30 min
        page.keyboard.press("Tab")
        page.keyboard.type("Asiakas K")
        tab_to(page, "#walkin-submit")
        with page.expect_navigation():
            page.keyboard.press("Space")
        assert _row(page, "Asiakas K").get_attribute("data-status") == "checked_in"


def test_a_refused_move_says_why_in_an_error_summary_that_links_to_the_field(chromium, app):
    booking = app.state.booking_ids["Asiakas A"]
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        row = _row(page, "Asiakas A")
        row.locator("summary").click()
        row.get_by_label("Uusi aika (tt:mm)").fill("11:30")  # Asiakas B has the room then
        row.get_by_role("button", name="Siirrä").click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        assert "Tila on jo varattu siihen aikaan." in summary.inner_text()
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == f"actions-{booking}" or \
            page.url.endswith(f"#actions-{booking}")
        assert_accessible(page)
        at_both_widths(page, "consoles-advisor-refused-fi")


def test_the_day_refreshes_itself_when_a_booking_is_made_elsewhere(chromium, app):
    app.state.console_refresh_ms = 300
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        assert page.locator("tr.visit", has_text="Asiakas P").count() == 0
        with app.state.sessionmaker() as session:  # the authority's phone service books
            bookings.create_booking(session, BookingRules.load(app.state.registry),
                                    site="porvoo", service="kela-benefits",
                                    start=local("14:00"), minutes=30, channel="phone_service",
                                    customer=Customer(name="Asiakas P"), actor="tel-kela",
                                    now=NOW)
            session.commit()
        _row(page, "Asiakas P").wait_for(timeout=10_000)  # no reload


def test_an_imatra_advisor_can_neither_open_porvoos_console_nor_act_on_its_bookings(chromium,
                                                                                    app):
    porvoo_booking = app.state.booking_ids["Asiakas A"]
    with served(app) as base, staff_page(chromium, base, "adv-imatra", PASSWORD) as page:
        assert "Imatran kaupungintalo" in page.get_by_role("heading", level=1).inner_text()
        assert page.locator("tr.visit", has_text="Asiakas A").count() == 0
        answer = page.goto(f"{base}/console/advisor?site=porvoo")
        assert answer.status == 403
        answer = page.goto(f"{base}/console/advisor/live?site=porvoo")
        assert answer.status == 403
    with TestClient(app) as client:
        logged_in(client, "adv-imatra")
        for action in ("check-in", "no-show", "cancel", "move"):
            answer = post_form(client, f"/console/advisor/bookings/{porvoo_booking}/{action}",
                               reason="x", time="12:00")
            assert answer.status_code == 404, action  # told as a missing booking
        assert post_form(client, "/console/advisor/walk-in", site="porvoo",
                         service="kela-benefits", name="X").status_code == 403
    with app.state.sessionmaker() as session:
        booking = bookings.booking_by_id(session, booking_id=porvoo_booking)
        assert (booking.status, booking.moves) == ("booked", 0)


def test_an_advisor_of_two_sites_switches_between_them(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-both", PASSWORD) as page:
        assert "Porvoo-info" in page.get_by_role("heading", level=1).inner_text()
        page.get_by_label("Palvelupiste").select_option("imatra")
        page.get_by_role("button", name="Vaihda").click()
        page.wait_for_load_state()
        assert "Imatran kaupungintalo" in page.get_by_role("heading", level=1).inner_text()
        assert _row(page, "Asiakas E").is_visible()


def test_the_room_shows_its_devices_and_an_open_incident_with_its_party_and_sla_clock(chromium,
                                                                                      app):
    with app.state.sessionmaker() as session:
        session.get(DeviceState, ("porvoo", "r1", "doccam")).state = "fault"
        settings = IncidentSettings()
        routing = incidents.Routing(load_matrix(settings.matrix_file,
                                                list(app.state.registry.sites)),
                                    app.state.registry, settings)
        incident = incidents.open_incident(session, routing=routing, site="porvoo", room="r1",
                                           device="doccam", rule="health", category="equipment",
                                           severity="critical", now=NOW - timedelta(minutes=5))
        incident.notified_at, incident.due_at = NOW - timedelta(minutes=5), \
            NOW + timedelta(minutes=25)
        session.commit()
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor?lang=en") as page:
        room = page.locator("#room-r1")
        assert "Not usable" in room.inner_text()
        assert "Document camera: fault" in room.inner_text()
        row = page.locator(f"#incident-{incident.id}")
        assert "Video solution supplier's service desk" in row.inner_text()
        assert "25 min left (due 10:35)" in row.inner_text()
        assert page.get_by_role("link", name="Report an incident").get_attribute("href") == \
            "/incidents/report?site=porvoo"
        at_both_widths(page, "consoles-advisor-incident-en")
        assert_accessible(page)
        page.get_by_role("link", name="Report an incident").click()
        page.wait_for_load_state()
        assert page.url.endswith("/incidents/report?site=porvoo")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Report a fault")
