"""The calls API's refusals: every call and stream scoped to the caller's sites, clear
answers for what cannot be done."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cloud.calls import service
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from tests.calls.conftest import ADMIN_TOKEN


@pytest.fixture
def api(database, broker):
    """The app (its live bus on the test's broker), served in process."""
    app = create_app(CloudSettings(database_url=database, broker_url=broker.url,
                                   admin_token=ADMIN_TOKEN))
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def porvoo_call(sessions) -> int:
    from datetime import UTC, datetime

    with sessions() as db:
        opened = service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-api-1",
                                   at=datetime.now(UTC))
        db.commit()
        return opened.call.id


def test_an_advisor_may_not_listen_to_or_list_or_take_another_sites_calls(api, staff,
                                                                           porvoo_call):
    imatra = bearer(staff["adv-imatra"][1])
    assert api.get("/api/live/events", params={"site": "porvoo"}, headers=imatra
                   ).status_code == 403
    assert api.get("/api/calls", params={"site": "porvoo"}, headers=imatra).status_code == 403
    taken = api.post(f"/api/calls/{porvoo_call}/acknowledge", headers=imatra)
    missing = api.post("/api/calls/999999/acknowledge", headers=imatra)
    assert taken.status_code == 404 and "porvoo" not in taken.text
    assert taken.json() == missing.json()  # another site's call is told as a missing one
    mine = api.get("/api/calls", params={"site": "porvoo", "open": "true"},
                   headers=bearer(staff["adv-porvoo-1"][1]))
    assert [c["id"] for c in mine.json()] == [porvoo_call]


def test_the_stream_and_the_calls_need_a_login(api, porvoo_call):
    assert api.get("/api/live/events").status_code == 401
    assert api.post(f"/api/calls/{porvoo_call}/acknowledge").status_code == 401


def test_the_admin_token_may_watch_but_acknowledging_needs_a_staff_account(api, porvoo_call):
    answer = api.post(f"/api/calls/{porvoo_call}/acknowledge", headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 403 and "staff account" in answer.json()["detail"]
    assert api.get("/api/calls", params={"site": "porvoo"}, headers=bearer(ADMIN_TOKEN)
                   ).status_code == 200


def test_an_unknown_call_site_or_cursor_gets_a_clear_answer(api, staff):
    advisor = bearer(staff["adv-porvoo-1"][1])
    assert api.post("/api/calls/999/acknowledge", headers=advisor).status_code == 404
    assert api.get("/api/live/events", params={"site": "atlantis"}, headers=advisor
                   ).status_code == 404
    bad = api.get("/api/live/events", headers=advisor | {"Last-Event-ID": "yesterday"})
    assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["detail"]
