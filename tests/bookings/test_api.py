"""The booking API through the real app: refusals say why, lists are scoped."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud.notify.models import OutboxMessage
from tests.accounts.conftest import NOW, add_staff, login, make_app

KELA = {"site": "porvoo", "service": "kela-benefits", "minutes": 30, "channel": "phone_service",
        "customer": {"name": "K. K.", "email": "customer@example.invalid", "language": "en"}}


def test_booking_through_the_api_with_reasons_for_every_refusal(tmp_path, migrated_file):
    app = make_app(tmp_path, NOW, migrated_file)
    add_staff(app, NOW)
    with TestClient(app) as client:
        phone = login(client, "tel-kela")
        free = client.get("/api/bookings/availability", headers=phone, params={
            "site": "porvoo", "service": "kela-benefits", "first": "2025-11-11",
            "last": "2025-11-11", "minutes": 60}).json()
        assert free[0] == {"room": "r1", "start": "2025-11-11T07:00:00Z",
                           "end": "2025-11-11T08:00:00Z"}
        made = client.post("/api/bookings", headers=phone,
                           json={**KELA, "start": free[0]["start"]})
        assert made.status_code == 201, made.text
        taken = client.post("/api/bookings", headers=phone,
                            json={**KELA, "start": free[0]["start"]})
        assert taken.status_code == 409 and taken.json()["reason"] == "slot_taken"
        holiday = client.post("/api/bookings", headers=phone,
                              json={**KELA, "start": "2025-12-24T08:00:00Z"})
        assert holiday.status_code == 422 and holiday.json()["reason"] == "holiday"
        police = client.post("/api/bookings", headers=login(client, "tel-poliisi"), json={
            **KELA, "service": "poliisi-permits", "start": "2025-11-11T08:00:00Z"})
        assert police.status_code == 422 and police.json()["reason"] == "service_not_offered"
        naive = client.post("/api/bookings", headers=phone,
                            json={**KELA, "start": "2025-11-11T10:00:00"})
        assert naive.status_code == 422  # a time without its offset is ambiguous
        app.state.clock.now = NOW.replace(day=11, hour=7, minute=10)
        phone = login(client, "tel-kela")  # the old session went idle overnight
        late = client.post(f"/api/bookings/{made.json()['id']}/move", headers=phone,
                           json={"start": "2025-11-11T09:00:00Z"})
        assert late.status_code == 422 and late.json()["reason"] == "too_late"
        desk = login(client, "adv-porvoo")
        day = client.get("/api/bookings/sites/porvoo/day", headers=desk).json()
        assert [b["customer_name"] for b in day] == ["K. K."]
        mine = client.get("/api/bookings/authorities/kela", headers=login(client, "exp-kela"),
                          params={"first": "2025-11-10", "last": "2025-11-14"}).json()
        assert [b["id"] for b in mine] == [made.json()["id"]]
        nothing = client.get("/api/bookings/authorities/vero", headers=login(client, "exp-vero"),
                             params={"first": "2025-11-10", "last": "2025-11-14"}).json()
        assert nothing == []
        assert "/api/bookings/availability" in client.get("/openapi.json").json()["paths"]


def test_a_stale_change_is_refused_as_changed_meanwhile_and_each_booking_and_move_confirmed(
        tmp_path, migrated_file):
    app = make_app(tmp_path, NOW, migrated_file)
    add_staff(app, NOW)
    with TestClient(app) as client:
        phone = login(client, "tel-kela")
        made = client.post("/api/bookings", headers=phone,
                           json={**KELA, "start": "2025-11-11T07:00:00Z"}).json()
        assert made["version"] == 1
        moved = client.post(f"/api/bookings/{made['id']}/move", headers=phone,
                            json={"start": "2025-11-11T08:00:00Z", "version": 1})
        assert moved.status_code == 200 and moved.json()["version"] == 2
        stale = client.post(f"/api/bookings/{made['id']}/cancel", headers=phone,
                            json={"reason": "customer called", "version": 1})
        assert stale.status_code == 409 and stale.json()["reason"] == "changed_meanwhile"
        fresh = client.post(f"/api/bookings/{made['id']}/cancel", headers=phone,
                            json={"reason": "customer called", "version": 2})
        assert fresh.status_code == 200 and fresh.json()["status"] == "cancelled"
        again = client.post(f"/api/bookings/{made['id']}/cancel", headers=phone,
                            json={"reason": "customer called"})
        assert again.status_code == 422 and again.json()["reason"] == "wrong_status"
        log = client.get(f"/api/bookings/{made['id']}/changes", headers=phone).json()
        assert [c["action"] for c in log] == ["created", "moved", "cancelled"]
    with app.state.sessionmaker() as session:
        sent = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.template, m.recipient, m.reference) for m in sent] == [
        ("booking_confirmation", "customer@example.invalid", f"booking:{made['id']}")] * 2


def test_an_advisor_closing_the_building_for_a_day_refuses_that_days_bookings(
        tmp_path, migrated_file):
    app = make_app(tmp_path, NOW, migrated_file)
    add_staff(app, NOW)
    with TestClient(app) as client:
        closed = client.put("/api/bookings/sites/porvoo/exceptions/2025-11-12",
                            headers=login(client, "adv-porvoo"),
                            json={"hours": [], "reason": "water damage"})
        assert closed.status_code == 200, closed.text
        phone = login(client, "tel-kela")
        free = client.get("/api/bookings/availability", headers=phone, params={
            "site": "porvoo", "service": "kela-benefits", "first": "2025-11-12",
            "last": "2025-11-12", "minutes": 30}).json()
        assert free == []
        refused = client.post("/api/bookings", headers=phone,
                              json={**KELA, "start": "2025-11-12T08:00:00Z"})
        assert refused.status_code == 422 and refused.json()["reason"] == "building_closed"

