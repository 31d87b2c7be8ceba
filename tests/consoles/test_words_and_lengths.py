"""What the advisor reads and books, in a real browser: a finished visit and a ready room are
told in different words, and no table has two columns of one name, in Finnish, Swedish and
English; a booking form offers only the lengths the chosen service allows and, without
script, refuses one it does not allow instead of booking another."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cloud.bookings import service as bookings
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.pages import ARTEFACTS, LAPTOP, checked, log_in, served, staff_page

pytestmark = pytest.mark.browser
WORDS = {"fi": ("Käynti päättynyt", "Käyttövalmis"), "sv": ("Besöket är över", "Redo"),
         "en": ("Visit over", "Ready")}


@pytest.fixture
def finished_visit(app):
    """Asiakas A's visit is over; the room is ready for the next."""
    with app.state.sessionmaker() as db:
        visit = bookings.booking_by_id(db, booking_id=app.state.booking_ids["Asiakas A"])
        bookings.check_in(db, booking=visit, actor="adv-porvoo", now=NOW)
        bookings.complete(db, booking=visit, realised_start=NOW - timedelta(minutes=40),
                          realised_end=NOW - timedelta(minutes=10), actor="adv-porvoo", now=NOW)
        db.commit()
    return app


def _headings(page, table: str) -> list[str]:
    return [h.inner_text() for h in page.locator(f"table.{table}").first.locator("th").all()]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_finished_visit_and_a_ready_room_are_told_in_different_words(chromium, finished_visit,
                                                                      lang):
    visit = finished_visit.state.booking_ids["Asiakas A"]
    with served(finished_visit) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                    path=f"/console/advisor?lang={lang}") as page:
        status = page.locator(f"#visit-{visit} .badge").inner_text()
        ready = page.locator("#room-r1 .ready").inner_text()
        assert (status, ready) == WORDS[lang]
        headings = _headings(page, "day-list")
        assert len(set(headings)) == len(headings), headings
        checked(page, f"consoles-advisor-words-{lang}")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_experts_table_names_each_column_once(chromium, app, lang):
    with served(app) as base, staff_page(chromium, base, "exp-kela", PASSWORD,
                                         path=f"/console/expert?lang={lang}") as page:
        headings = _headings(page, "expert-day")
        assert len(headings) == 6 and len(set(headings)) == 6, headings


def _offered(page, field: str) -> list[str]:
    return [option.get_attribute("value")  # no evaluate: it works without the page's script
            for option in page.locator(f"#{field} option:not([disabled])").all()]


def test_the_booking_form_offers_only_the_lengths_of_the_chosen_service(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        for prefix in ("create", "walkin"):
            page.locator(f"#{prefix}-service").select_option("kela-pensions")  # 60 min only
            assert _offered(page, f"{prefix}-minutes") == ["60"]
            assert page.locator(f"#{prefix}-minutes").input_value() == "60"
            page.locator(f"#{prefix}-service").select_option("dvv-population")  # 30 only
            assert _offered(page, f"{prefix}-minutes") == ["30"]
            page.locator(f"#{prefix}-service").select_option("kela-benefits")
            assert _offered(page, f"{prefix}-minutes") == ["30", "60"]
        assert "(60 min)" in page.locator("#create-service option[value=kela-pensions]").inner_text()


def _book_pensions(page, minutes: str) -> int:
    page.locator("#create-service").select_option("kela-pensions")
    page.locator("#create-minutes").select_option(minutes)
    page.locator("#create-name").fill("Asiakas L")
    page.locator("#create-time").fill("12:00")
    with page.expect_navigation() as answer:
        page.locator("#create-submit").click()
    return answer.value.status


def test_without_script_a_length_the_service_does_not_allow_is_refused_not_changed(chromium,
                                                                                  app):
    context = chromium.new_context(viewport=LAPTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        with served(app) as base:
            log_in(page, base, "adv-porvoo", PASSWORD, path="/console/advisor")
            assert _offered(page, "create-minutes") == ["30", "60"]  # no script to narrow
            assert _book_pensions(page, "30") == 422
            summary = page.locator(".error-summary")
            assert "Eläkeasiat käynnin kesto voi olla vain 60 min" in summary.inner_text()
            assert summary.get_by_role("link").get_attribute("href") == "#create-minutes"
            assert page.locator("tr.visit", has_text="Asiakas L").count() == 0
            page.screenshot(path=ARTEFACTS / "consoles-advisor-length-refused-fi.png",
                            full_page=True)  # axe needs script; the scripted page is checked
            assert _book_pensions(page, "60") == 200  # after the redirect
            assert page.locator("tr.visit", has_text="Asiakas L").inner_text().startswith(
                "12:00–13:00")
    finally:
        context.close()
