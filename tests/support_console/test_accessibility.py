"""Every incident page in Finnish, Swedish and English, at a laptop's and a phone's width:
axe-core finds nothing serious or critical, nothing sticks out sideways, and the screenshots
land in the artefacts folder (``support-*`` and ``incident-report-*``)."""
from __future__ import annotations

import pytest

from tests.accounts.conftest import PASSWORD
from tests.pages import browser_page, checked, log_in, served
from tests.support_console.conftest import helsinki, incident

pytestmark = pytest.mark.browser
ROOM = {"fi": "Porvoo-infon neuvotteluhuone", "sv": "Borgå-infos mötesrum",
        "en": "Porvoo Info meeting room"}
PORVOO = {"fi": "Porvoo-info", "sv": "Borgå-info", "en": "Porvoo Info"}  # the registry's names
DESK = {"fi": "Videoratkaisun toimittajan palvelupiste",  # the matrix's names of the party
        "sv": "Videolösningens leverantörs servicedesk", "en": "Video solution supplier's service desk"}
HEADINGS = {"fi": "Tukitahon tapaukset", "sv": "Stödpartens ärenden",
            "en": "Support party's incidents"}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_support_pages_are_accessible_in_each_language_at_both_widths(chromium, sqlite_app,
                                                                          lang):
    fresh = incident(sqlite_app, category="equipment", opened=helsinki(10, 7, 50),
                     notified=helsinki(10, 7, 55), summary="Dokumenttikamera ei käynnisty")
    incident(sqlite_app, category="system", opened=helsinki(7, 15, 0),
             notified=helsinki(7, 15, 0), severity="critical")
    with served(sqlite_app) as base, browser_page(chromium) as page:
        log_in(page, base, "sup-desk", PASSWORD, path=f"/console/support?lang={lang}")
        assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[lang]
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("p.lead").first.inner_text() == DESK[lang]
        assert page.locator(f"#incident-{fresh} .facts dd").first.inner_text().startswith(
            f"{PORVOO[lang]}, {ROOM[lang]}")  # the room in the page's language too
        checked(page, f"support-queue-{lang}")
        page.locator(f"#incident-{fresh} button").click()
        page.wait_for_load_state()
        checked(page, f"support-queue-acknowledged-{lang}")
        page.goto(f"{base}/console/support/incidents/{fresh}")
        checked(page, f"support-incident-{lang}")
        page.locator("form[action$='/comment'] button").click()  # empty: the error summary
        page.wait_for_load_state()
        assert page.get_by_role("alert").is_visible()
        checked(page, f"support-incident-error-{lang}")
        page.goto(f"{base}/console/support/incidents/999999")
        checked(page, f"support-refused-{lang}")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_report_pages_are_accessible_in_each_language_at_both_widths(chromium, sqlite_app,
                                                                         lang):
    with served(sqlite_app) as base, browser_page(chromium) as page:
        log_in(page, base, "adv-porvoo", PASSWORD, path=f"/incidents/report?site=porvoo&lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        checked(page, f"incident-report-{lang}")
        page.locator("form.report-form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").is_visible()
        checked(page, f"incident-report-errors-{lang}")
        page.locator("#category-furniture").check()
        page.locator("#summary").fill("Tuolin jalka irti")
        page.locator("form.report-form button[type=submit]").click()
        page.wait_for_url(f"{base}/incidents/report/*")
        checked(page, f"incident-reported-{lang}")
