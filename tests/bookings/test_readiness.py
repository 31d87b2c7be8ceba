"""Readiness 15 minutes before a booking, read from the twin, alerting through the outbox."""
from __future__ import annotations

from sqlalchemy import select

from cloud.accounts.models import Staff
from cloud.bookings import service
from cloud.bookings.readiness import room_problems
from cloud.bookings.scheduled import tick
from cloud.bookings.service import Customer
from cloud.bookings.settings import BookingSettings
from cloud.incidents.models import Incident
from cloud.notify.models import OutboxMessage
from cloud.twin.models import AgentPresence, DeviceState
from tests.bookings.conftest import at

NOW = at(2025, 11, 10, 8)


def test_room_problems_name_each_device_not_serving():
    devices = ("agent", "terminal", "doccam", "callbutton")
    assert room_problems(True, {"terminal": "ok", "doccam": "degraded", "callbutton": "ok"},
                         devices) == []
    assert room_problems(False, {"terminal": "fault", "doccam": "ok"}, devices) == \
        ["agent offline", "terminal fault", "callbutton unknown"]


def twin(s, site, room, online, states):
    s.add(AgentPresence(site=site, room=room, online=online, since=NOW, updated_at=NOW))
    for device, state in states.items():
        s.add(DeviceState(site=site, room=room, device=device, state=state, seq_count=0,
                          duplicates=0))
    s.commit()


def test_an_unready_room_alerts_the_sites_advisors_and_the_authoritys_experts(store, rules):
    with store() as s:
        for name, role, org, sites in (("adv-p", "advisor", "porvoo", ["porvoo"]),
                                       ("adv-i", "advisor", "imatra", ["imatra"]),
                                       ("exp-k", "expert", "kela", []),
                                       ("exp-v", "expert", "vero", [])):
            s.add(Staff(username=name, display_name=name, role=role, organisation=org,
                        sites=sites, email=f"{name}@example.invalid", active=True,
                        created_at=NOW))
        all_ok = {d: "ok" for d in ("terminal", "doccam", "callbutton", "occupancy", "network")}
        twin(s, "porvoo", "r1", True, {**all_ok, "doccam": "missing"})
        twin(s, "imatra", "r1", True, all_ok)
        s.add(Incident(site="porvoo", room="r1", device="doccam", rule="device_missing",
                       category="equipment", owner="supplier", party="elisa", severity="major",
                       state="notified", opened_at=NOW, updated_at=NOW))
        s.commit()
        customer = Customer(name="X", language="fi")
        bad = service.create_booking(s, rules, site="porvoo", service="kela-benefits",
                                     start=at(2025, 11, 10, 10), minutes=30, channel="on_site",
                                     customer=customer, actor="a", now=NOW)
        service.create_booking(s, rules, site="imatra", service="kela-benefits",
                               start=at(2025, 11, 10, 10), minutes=30, channel="on_site",
                               customer=customer, actor="a", now=NOW)
        s.commit()
        incident = s.scalar(select(Incident.id))
    settings = BookingSettings()
    assert tick(store, rules, settings, now=at(2025, 11, 10, 9, 44))["not_ready"] == 0
    assert tick(store, rules, settings, now=at(2025, 11, 10, 9, 45))["not_ready"] == 1
    assert tick(store, rules, settings, now=at(2025, 11, 10, 9, 50))["not_ready"] == 0  # once
    with store() as s:
        alerts = s.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "booking_room_not_ready")).all()
        assert sorted(m.recipient for m in alerts) == ["adv-p@example.invalid",
                                                      "exp-k@example.invalid"]
        assert alerts[0].context["incident"] == f"#{incident}"
        assert alerts[0].context["booking"] == bad.id
        assert "doccam missing" in alerts[0].context["problems"]
        assert "X" not in str(alerts[0].context.values())
