"""The session API over HTTP: a booking's session, who may open and join it."""
from __future__ import annotations

from datetime import timedelta

from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from tests.sessions.conftest import NOW


def _booking(live) -> int:
    live.clock.jump_to(NOW)  # a Monday morning: the booking rules' hours
    start = NOW + timedelta(minutes=30)
    with live.app.state.sessionmaker() as db:
        booking = bookings.create_booking(
            db, BookingRules.load(live.app.state.registry), site="porvoo",
            service="kela-benefits", start=start, minutes=30, channel="on_site",
            customer=Customer(name="A. A."), actor="adv-porvoo", now=live.clock(),
            room="r1")
        db.commit()
        return booking.id


def test_a_bookings_session_is_opened_once_and_joined_only_by_its_authoritys_expert(live):
    booking_id = _booking(live)
    with live.client() as client:
        opened = [client.post("/api/sessions", json={"booking_id": booking_id},
                              headers=live.staff("adv-porvoo")) for _ in range(2)]
        foreign = client.post("/api/sessions", json={"booking_id": booking_id},
                              headers=live.staff("adv-imatra"))
        session_id = opened[0].json()["id"]
        other_expert = client.post(f"/api/sessions/{session_id}/join",
                                   headers=live.staff("exp-vero"))
        expert = client.post(f"/api/sessions/{session_id}/join",
                             headers=live.staff("exp-kela"))
        read = client.get(f"/api/sessions/{session_id}", headers=live.staff("adv-porvoo"))
    assert [o.status_code for o in opened] == [201, 201]
    assert opened[1].json()["id"] == session_id  # the same session, not a second one
    assert opened[0].json()["booking_id"] == booking_id
    # another site's booking and another authority's session: told as missing ones
    assert foreign.status_code == 404 and other_expert.status_code == 404
    assert expert.status_code == 200 and expert.json()["role"] == "expert"
    assert [p["role"] for p in read.json()["participants"]] == ["expert"]
    assert "credential" not in read.text


def test_a_walk_in_names_a_service_the_site_offers(live):
    with live.client() as client:
        answer = client.post("/api/sessions", headers=live.staff("adv-porvoo"), json={
            "site": "porvoo", "room": "r1", "service": "poliisi-permits"})
    assert answer.status_code == 422


def test_only_the_sessions_expert_asks_for_an_identity_check_and_only_the_sites_staff_confirm(
        live):
    session = live.open_walk_in()
    path = f"/api/sessions/{session['id']}/identity-check"
    with live.client() as client:
        refused = [client.post(path, headers=live.staff(who)).status_code
                   for who in ("exp-vero", "adv-porvoo")]
        asked = client.post(path, headers=live.staff("exp-kela"))
        again = client.post(path, headers=live.staff("exp-kela"))
        call_id = asked.json()["call"]["id"]
        confirm = f"/api/calls/{call_id}/identity-confirmed"
        foreign = client.post(confirm, headers=live.staff("adv-imatra"))
        confirmed = client.post(confirm, headers=live.staff("adv-porvoo"))
        twice = client.post(confirm, headers=live.staff("adv-porvoo"))
        client.post(f"/api/sessions/{session['id']}/end", headers=live.staff("exp-kela"))
        after_end = client.post(path, headers=live.staff("exp-kela"))
    assert refused == [404, 403]  # another authority's session is told as a missing one
    assert asked.status_code == 202 and asked.json()["asked"] is True
    assert asked.json()["call"]["reason"] == "identity"
    assert again.json() == {"asked": False, "call": asked.json()["call"]}  # the call stands
    assert foreign.status_code == 404  # another site's call is told as a missing one
    assert confirmed.status_code == 200 and confirmed.json()["clear_reason"] == "verified"
    assert confirmed.json()["acknowledged_by"] == "adv-porvoo"
    assert twice.status_code == 409
    assert after_end.status_code == 409 and "ended" in after_end.json()["detail"]
