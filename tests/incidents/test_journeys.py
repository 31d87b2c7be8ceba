"""The incident journey across domains: a room closed for an incident reopens when the
incident is resolved, whoever resolves it (the engine, staff, the party's link)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cloud.bookings import service as bookings
from cloud.bookings.models import RoomClosure
from cloud.bookings.service import BookingRules
from cloud.incidents.models import Incident
from tests.incidents.test_engine import api, at, incidents, outbox, transition  # noqa: F401


def closure_end(store, incident_id: int) -> datetime:
    with store() as session:
        end = session.scalar(select(RoomClosure.end).where(
            RoomClosure.incident == str(incident_id)))
    return end


def close_for(store, registry, incident_id: int, start: datetime) -> None:
    with store() as session:
        bookings.close_room(session, BookingRules.load(registry), site="porvoo", room="r1",
                            start=start, end=start + timedelta(days=30), reason="terminal broken",
                            actor="advisor-porvoo", incident=str(incident_id))
        session.commit()


def test_a_room_closed_for_an_incident_reopens_when_the_engine_resolves_it(
        store, registry, engine_factory):
    engine = engine_factory()
    transition(store, "terminal", "fault", at(0), code="crashed")
    engine.tick(at(1.5))
    [incident] = incidents(store)
    close_for(store, registry, incident.id, at(1.5))
    transition(store, "terminal", "ok", at(2))
    engine.tick(at(3.5))
    assert incidents(store)[0].state == "resolved"
    assert closure_end(store, incident.id) == at(3.5)


def test_a_room_closed_for_an_incident_reopens_when_staff_or_the_party_resolve_it(
        store, registry, api, engine_factory):  # noqa: F811 - the API fixture
    now = datetime.now(UTC)
    reported = api.post("/api/incidents", json={"site": "porvoo", "room": "r1",
                                                 "category": "space", "severity": "critical",
                                                 "summary": "Vesivahinko"}).json()
    close_for(store, registry, reported["id"], now - timedelta(minutes=1))
    assert api.post(f"/api/incidents/{reported['id']}/resolve").json()["state"] == "resolved"
    assert now <= closure_end(store, reported["id"]) <= datetime.now(UTC)

    engine = engine_factory()
    transition(store, "doccam", "fault", at(0), code="usb_error")
    engine.tick(at(2))
    with store() as session:
        faulty = session.scalar(select(Incident).where(Incident.device == "doccam"))
    close_for(store, registry, faulty.id, now - timedelta(minutes=1))
    [mail] = [m for m in outbox(store) if m.reference == f"incident:{faulty.id}:open:0"]
    link = mail.context["resolve_url"].removeprefix("https://etapalvelu.example.invalid")
    assert api.post(link, headers={"Authorization": ""}).json()["state"] == "resolved"
    assert now <= closure_end(store, faulty.id) <= datetime.now(UTC)
