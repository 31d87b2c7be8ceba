"""Absurd years and instants without an offset are refused with a 422 that says what to send,
in every body, path and query parameter that takes a day, an instant or a report year.

The refusal comes from the one API type of instants before any handler or store is reached,
so one database (SQLite) serves every probe."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.time.conftest import ADMIN, make_app

YEARS = ("0000", "-0005", "0001", "9999", "99999")
DAY_PROBES = {
    "availability": ("get", "/api/bookings/availability",
                     lambda d: {"params": {"site": "porvoo", "service": "kela-benefits",
                                           "first": d, "last": "2026-03-02"}}),
    "day_list": ("get", "/api/bookings/sites/porvoo/day", lambda d: {"params": {"day": d}}),
    "authority_list": ("get", "/api/bookings/authorities/kela",
                       lambda d: {"params": {"first": "2026-03-02", "last": d}}),
    "building_exception": ("put", "/api/bookings/sites/porvoo/exceptions/{day}",
                           lambda d: {"json": {"hours": [], "reason": "remont"}}),
}
WINDOW = {"reason": "huolto"}
INSTANT_PROBES = {
    "booking": ("post", "/api/bookings", lambda t: {"json": {
        "site": "porvoo", "service": "kela-benefits", "channel": "on_site", "start": t,
        "customer": {"name": "K. K."}}}),
    "move": ("post", "/api/bookings/1/move", lambda t: {"json": {"start": t}}),
    "complete": ("post", "/api/bookings/1/complete", lambda t: {"json": {
        "realised_start": "2026-03-02T07:00:00Z", "realised_end": t}}),
    "closure": ("post", "/api/bookings/sites/porvoo/rooms/r1/closures",
                lambda t: {"json": {**WINDOW, "start": t, "end": "2026-03-02T07:00:00Z"}}),
    "affected": ("get", "/api/bookings/sites/porvoo/rooms/r1/affected",
                 lambda t: {"params": {"start": "2026-03-02T07:00:00Z", "end": t}}),
    "silence": ("post", "/api/incidents/silences", lambda t: {"json": {
        **WINDOW, "site": "porvoo", "starts_at": t, "ends_at": "2026-03-02T09:00:00Z"}}),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The real app on a migrated SQLite store, its admin token in every request."""
    url = f"sqlite:///{tmp_path_factory.mktemp('probes') / 'cloud.sqlite'}"
    app = make_app(url, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    with TestClient(app, headers=ADMIN) as client:
        yield client
    app.state.engine.dispose()


def refusal(answer) -> str:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    return " ".join(error["msg"] for error in answer.json()["errors"])


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("probe", DAY_PROBES)
def test_a_day_in_an_absurd_year_is_refused_with_the_years_allowed(client, probe, year):
    method, path, request = DAY_PROBES[probe]
    day = f"{year}-12-31"
    answer = client.request(method, path.format(day=day), **request(day))
    assert "2000 to 2099" in refusal(answer) or "outside 2000-2099" in refusal(answer)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("probe", INSTANT_PROBES)
def test_an_instant_in_an_absurd_year_is_refused_with_the_years_allowed(client, probe, year):
    method, path, request = INSTANT_PROBES[probe]
    answer = client.request(method, path, **request(f"{year}-12-31T23:00:00-02:00"))
    assert "2000 to 2099" in refusal(answer) or "outside 2000-2099" in refusal(answer)


@pytest.mark.parametrize("probe", INSTANT_PROBES)
def test_an_instant_without_its_offset_beside_one_with_it_is_refused(client, probe):
    method, path, request = INSTANT_PROBES[probe]
    answer = client.request(method, path, **request("2026-03-02T09:00:00"))
    assert "needs its UTC offset" in refusal(answer)


@pytest.mark.parametrize("year", ("0", "-5", "1", "9999", "99999"))
def test_the_sla_report_of_an_absurd_year_is_refused(client, year):
    answer = client.get(f"/api/incidents/report/{year}/12")
    assert "2000" in refusal(answer) and "2099" in refusal(answer)


def test_a_report_of_a_sane_year_is_answered(client):
    assert client.get("/api/incidents/report/2026/12").json() == []
