"""A customer's journey through the public pages, in a real browser and without login: the
list of points, then Porvoo's page in Swedish (Borgå), its holidays closed, axe-clean and
readable at a laptop's and a phone's width; its JSON-LD block is read (the CSP, which allows no
inline script, refuses nothing: a data block is not run) and names the same hours as the
table. Screenshots: ``points-*`` and ``point-porvoo-*`` in the artefacts folder."""
from __future__ import annotations

import json
from datetime import date

import pytest

from tests.pages import browser_page, checked, served
from tests.points.helpers import hours_on

pytestmark = pytest.mark.browser
NAMES = {"fi": "Porvoo-info", "sv": "Borgå-info", "en": "Porvoo Info"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_customer_reads_porvoos_page_before_the_visit(chromium, app, lang):
    with served(app) as base, browser_page(chromium) as page:
        page.goto(f"{base}/points?lang={lang}")
        checked(page, f"points-{lang}")
        page.get_by_role("link", name=NAMES[lang]).click()
        page.wait_for_load_state()
        assert page.url.startswith(f"{base}/points/porvoo")
        assert page.get_by_role("heading", level=1).inner_text() == NAMES[lang]
        assert page.locator("html").get_attribute("lang") == lang
        checked(page, f"point-porvoo-{lang}")
        rows = {date.fromisoformat(row.get_attribute("data-day")):
                row.locator(".open").inner_text() for row in page.locator("tr[data-day]").all()}
        office = json.loads(page.locator("#linked-data").text_content())
        assert {day: hours_on(office, day, lang) for day in rows} == rows
        assert office["name"] == NAMES[lang]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_porvoos_page_in_swedish_says_borga_and_closes_on_christmas(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        page.goto(f"{base}/points/porvoo?lang=sv")
        assert page.locator("#address").inner_text() == "Krämaregatan 4, 06100 Borgå"
        christmas_eve = page.locator("tr[data-day='2026-12-24']")
        assert christmas_eve.locator(".open").inner_text() == "stängt"
        assert christmas_eve.locator(".note").inner_text() == "Julafton"
        assert page.locator("tr[data-day='2026-12-23'] .open").inner_text() == "09:00–15:00"
        services = page.locator("#services + ul").inner_text()
        assert "FPA" in services and "FPA:s förmånsärenden" in services
        assert "Polisen" not in services  # the Police serve only at Imatra
        assert page.get_by_role("link", name="+358000000101").get_attribute("href") == \
            "tel:+358000000101"  # FPA's phone service books a visit
