"""Every instant in an API answer has one form, UTC with ``Z``, on SQLite and PostgreSQL alike,
whatever offset the caller wrote it in and whichever domain stored it."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from cloud.incidents import service
from tests.accounts.conftest import login
from tests.time.conftest import ADMIN, routing_of

NOW = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)  # Monday 08:00 in Helsinki
VISIT = {"site": "porvoo", "service": "kela-benefits", "minutes": 30, "channel": "phone_service",
         "room": "r1", "customer": {"name": "K. K.", "language": "fi"}}


def test_a_booking_made_in_helsinki_time_is_answered_in_utc_as_it_is_read_back(app_factory):
    app = app_factory(NOW, staff=True)
    with TestClient(app) as client:
        phone = login(client, "tel-kela")
        made = client.post("/api/bookings", headers=phone,
                           json={**VISIT, "start": "2027-03-02T09:00:00+02:00"})
        assert made.status_code == 201, made.text
        read = client.get(f"/api/bookings/{made.json()['id']}", headers=phone).json()
        changes = client.get(f"/api/bookings/{made.json()['id']}/changes", headers=phone).json()
    assert (made.json()["start"], made.json()["end"]) == ("2027-03-02T07:00:00Z",
                                                          "2027-03-02T07:30:00Z")
    assert (read["start"], read["end"]) == (made.json()["start"], made.json()["end"])
    assert changes[0]["at"] == "2027-03-01T06:00:00Z"
    assert changes[0]["after"]["start"] == "2027-03-02T07:00:00Z"


def test_a_critical_incident_in_a_room_shows_the_bookings_it_hits(app_factory):
    app = app_factory(NOW, staff=True)
    with TestClient(app) as client:
        made = client.post("/api/bookings", headers=login(client, "tel-kela"),
                           json={**VISIT, "start": "2027-03-02T07:00:00Z"}).json()
        with app.state.sessionmaker() as session:
            incident = service.open_incident(
                session, routing=routing_of(app), site="porvoo", room="r1", device="agent",
                rule="agent_offline", category="system", severity="critical", now=NOW)
            session.commit()
        answer = client.get(f"/api/incidents/{incident.id}", headers=ADMIN)
        assert answer.status_code == 200, answer.text
        hit = client.get("/api/bookings/sites/porvoo/rooms/r1/affected", headers=ADMIN,
                         params={"start": "2027-03-01T08:00:00+02:00"}).json()
    shown = answer.json()
    assert shown["opened_at"] == "2027-03-01T06:00:00Z"
    assert [(b["id"], b["start"], b["end"]) for b in shown["affected_bookings"]] == [
        (made["id"], "2027-03-02T07:00:00Z", "2027-03-02T07:30:00Z")]
    assert hit["bookings"][0]["start"] == "2027-03-02T07:00:00Z"
    assert all(e["at"] == "2027-03-01T06:00:00Z" for e in shown["events"])

