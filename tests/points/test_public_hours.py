"""The public page of a point tells the hours the platform books by, without login, on
SQLite and PostgreSQL: the next four weeks with the public holidays closed and the building's
dated exceptions, and its JSON-LD names the same hours on every day."""
from __future__ import annotations

import json
from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.points.conftest import NEW_YEARS_EVE, NOW
from tests.points.helpers import hours_on, page_linked_data, page_rows

HTML = {"Accept": "text/html"}


def test_the_page_of_porvoo_shows_the_holidays_closed_and_the_buildings_exception(app):
    html = TestClient(app).get("/points/porvoo?lang=sv", headers=HTML).text
    rows = page_rows(html)
    assert list(rows) == [date(2026, 12, 14) + timedelta(days=n) for n in range(28)]
    assert rows[date(2026, 12, 23)] == "09:00–15:00"
    assert rows[date(2026, 12, 24)] == rows[date(2026, 12, 25)] == "stängt"  # Julafton, Juldagen
    assert rows[date(2027, 1, 1)] == rows[date(2027, 1, 6)] == "stängt"
    assert rows[NEW_YEARS_EVE] == "09:00–12:00"  # the building closes at noon
    assert "Julafton" in html and "Trettondag" in html and "Borgå-info" in html


def test_the_linked_data_names_the_same_hours_as_the_page_on_every_day(app):
    for lang in ("fi", "sv", "en"):
        html = TestClient(app).get(f"/points/porvoo?lang={lang}", headers=HTML).text
        office = page_linked_data(html)
        assert office["@type"] == "GovernmentOffice"
        assert {day: hours_on(office, day, lang) for day in page_rows(html)} == page_rows(html)


def test_the_linked_data_is_served_alone_as_the_page_carries_it(app):
    client = TestClient(app)
    answer = client.get("/points/porvoo.jsonld?lang=sv")
    assert answer.headers["content-type"].startswith("application/ld+json")
    page = client.get("/points/porvoo?lang=sv", headers=HTML).text
    assert json.loads(answer.text) == page_linked_data(page)
    assert json.loads(answer.text)["name"] == "Borgå-info"


def test_the_points_are_listed_without_login_and_an_unknown_one_is_not_found(app):
    client = TestClient(app)
    listing = client.get("/points?lang=sv", headers=HTML)
    assert listing.status_code == 200
    assert all(f'href="/points/{site}"' in listing.text for site in ("porvoo", "imatra", "nurmes"))
    missing = client.get("/points/nowhere")
    assert missing.status_code == 404 and missing.json()["reason"] == "not_found"
    assert NOW  # the app's clock: the four weeks start on Monday 14.12.2026
