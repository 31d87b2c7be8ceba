"""The consent to a feedback text message in the advisor's booking and walk-in forms (its own
box, off unless ticked, kept with its time and only with a phone number), and the advisor's
"done" that ends a visit without a video session, after which the message may go."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cloud.bookings import service as bookings
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.consoles.helpers import logged_in, post_form
from tests.pages import ARTEFACTS, PHONE, checked, served, staff_page

WALK_IN = {"site": "porvoo", "service": "kela-benefits", "minutes": "30", "name": "Asiakas S",
           "language": "sv"}


def _booking(app, booking_id: int):
    with app.state.sessionmaker() as session:
        return bookings.booking_by_id(session, booking_id=booking_id)


def _booked_id(answer) -> int:
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].split("booking=")[1].split("&")[0])


def test_a_visit_keeps_the_consent_with_its_time_only_when_the_box_is_ticked(app):
    with TestClient(app) as client:
        logged_in(client, "adv-porvoo")
        agreed = post_form(client, "/console/advisor/walk-in", **WALK_IN,
                           phone="+358 40 123 4567", feedback_sms="yes")
        silent = post_form(client, "/console/advisor/bookings", **WALK_IN, date="2026-11-17",
                           time="10:00", channel="phone_service", phone="+358 40 765 4321")
    assert _booking(app, _booked_id(agreed)).feedback_consent_at == NOW
    assert _booking(app, _booked_id(silent)).feedback_consent_at is None


@pytest.mark.parametrize("phone", ["", "12345", "+358 40 123 4567 8901 2345", "040-123"])
def test_the_consent_without_a_usable_phone_number_is_refused_at_the_phone_field(app, phone):
    with TestClient(app) as client:
        logged_in(client, "adv-porvoo")
        answer = post_form(client, "/console/advisor/bookings", **WALK_IN, date="2026-11-17",
                           time="10:00", channel="phone_service", phone=phone,
                           feedback_sms="yes")
    assert answer.status_code == 422
    assert 'href="#create-phone"' in answer.text


def test_the_advisors_done_completes_a_visit_without_a_session(app):
    with TestClient(app) as client:
        logged_in(client, "adv-porvoo")
        booking_id = _booked_id(post_form(client, "/console/advisor/walk-in", **WALK_IN,
                                          phone="+358 40 123 4567", feedback_sms="yes"))
        page = client.get("/console/advisor")
        assert f'action="/console/advisor/bookings/{booking_id}/done"' in page.text
        app.state.clock.now = NOW.replace(minute=35)
        done = post_form(client, f"/console/advisor/bookings/{booking_id}/done")
    assert done.status_code == 303
    booking = _booking(app, booking_id)
    assert booking.status == "completed" and booking.realised_end == NOW.replace(minute=35)


@pytest.mark.browser
def test_the_consent_reads_as_a_box_with_its_label_and_hint(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        box = page.get_by_label("Asiakas suostuu, että häneltä kysytään käynnistä "
                                "tekstiviestillä").first
        assert not box.is_checked()
        page.locator("#walkin-feedback-sms").scroll_into_view_if_needed()
        checked(page, "consoles-advisor-feedback-consent")
        page.set_viewport_size(PHONE)
        page.locator("section[aria-labelledby=walkin-title]").screenshot(
            path=ARTEFACTS / "consoles-advisor-feedback-consent-walk-in-phone.png")
