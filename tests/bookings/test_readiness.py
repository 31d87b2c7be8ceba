"""Readiness 15 minutes before a booking, read from the twin, alerting through the outbox; and
one answer to "is the site open" and "can this room serve" from bookings, incidents and
readiness."""
from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from cloud.accounts.models import Staff
from cloud.bookings import service
from cloud.bookings.service import BookingRefused, Customer
from cloud.bookings.settings import BookingSettings
from cloud.flows.incidents import incident_engine
from cloud.flows.readiness import visit_readiness
from cloud.flows.schedule import tick
from cloud.incidents.models import Incident
from cloud.notify.models import OutboxMessage
from cloud.sites import service as site_service
from cloud.twin.models import AgentPresence, DeviceState, Transition
from cloud.twin.rules import room_condition, room_readiness
from tests.bookings.conftest import at
from tests.incidents import conftest as incident_fixtures
from tests.incidents.conftest import quick_settings

any_store = incident_fixtures.any_store  # SQLite, then PostgreSQL
NOW = at(2025, 11, 10, 8)
ALL_OK = {d: "ok" for d in ("terminal", "doccam", "callbutton", "occupancy", "network")}


def test_the_rule_names_what_stops_a_room_and_what_only_degrades_it():
    devices = ("agent", "terminal", "doccam", "callbutton", "network")
    calm = room_readiness(True, {"terminal": "ok", "doccam": "degraded", "callbutton": "ok",
                                 "network": "ok"}, devices)
    assert (calm.serves, calm.problems, calm.notes) == (True, (), ("doccam degraded",))
    down = room_readiness(False, {"terminal": "fault", "doccam": "ok"}, devices)
    assert not down.serves
    assert down.problems == ("agent offline", "terminal fault", "network unknown")


def twin(s, site, room, online, states, when=NOW):
    when = when.astimezone(UTC)  # what the ingest writes
    s.add(AgentPresence(site=site, room=room, online=online, since=when, updated_at=when))
    for device, state in states.items():
        s.add(DeviceState(site=site, room=room, device=device, state=state, seq_count=0,
                          duplicates=0, state_since=when, last_seen_at=when))
    s.commit()


def staff(s):
    for name, role, org, sites in (("adv-p", "advisor", "porvoo", ["porvoo"]),
                                   ("adv-i", "advisor", "imatra", ["imatra"]),
                                   ("exp-k", "expert", "kela", []),
                                   ("exp-v", "expert", "vero", [])):
        s.add(Staff(username=name, display_name=name, role=role, organisation=org,
                    sites=sites, email=f"{name}@example.invalid", active=True, created_at=NOW))
    s.commit()


def not_ready_alerts(store) -> list[OutboxMessage]:
    with store() as s:
        return list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "booking_room_not_ready").order_by(OutboxMessage.id)))


def test_an_unready_room_alerts_the_sites_advisors_and_the_authoritys_experts(store, rules):
    with store() as s:
        staff(s)
        twin(s, "porvoo", "r1", True, {**ALL_OK, "doccam": "missing"})
        twin(s, "imatra", "r1", True, ALL_OK)
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
    alerts = not_ready_alerts(store)
    assert sorted(m.recipient for m in alerts) == ["adv-p@example.invalid",
                                                  "exp-k@example.invalid"]
    assert alerts[0].context["incident"] == f"#{incident}"
    assert alerts[0].context["booking"] == bad.id
    assert "doccam missing" in alerts[0].context["problems"]
    assert "X" not in str(alerts[0].context.values())


def test_a_building_closed_after_the_booking_was_made_is_a_room_not_ready(store, rules):
    with store() as s:
        staff(s)
        twin(s, "porvoo", "r1", True, ALL_OK)
        service.create_booking(s, rules, site="porvoo", service="kela-benefits",
                               start=at(2025, 11, 12, 10), minutes=30, channel="on_site",
                               customer=Customer(name="X"), actor="a", now=NOW)
        site_service.set_building_exception(s, site="porvoo", day=at(2025, 11, 12, 0).date(),
                                            spans=[], reason="water damage")
        s.commit()
    tick(store, rules, BookingSettings(), now=at(2025, 11, 12, 9, 50))
    [advisor, _] = not_ready_alerts(store)
    assert advisor.context["problems"] == "site closed"


def engine_severity(store, registry, site: str, instant) -> str:
    """The severity the incident engine gives the room's agent going offline at ``instant``
    (no lead: the question is only whether the site is open then)."""
    instant = instant.astimezone(UTC)  # what the ingest writes
    with store() as s:
        s.merge(AgentPresence(site=site, room="r1", online=False, since=instant,
                              updated_at=instant))
        s.add(Transition(site=site, room="r1", device="agent", from_state="online",
                         to_state="offline", at=instant))
        s.commit()
    engine = incident_engine(store, registry, settings=quick_settings(critical_lead_min=0))
    engine.tick(instant)  # takes the lease and reads the log
    engine.tick(instant + timedelta(seconds=2))
    engine.stop()
    with store() as s:
        return s.scalar(select(Incident.severity).where(Incident.site == site))


def booking_outcome(store, rules, site: str, instant) -> str:
    with store() as s:
        try:
            service.create_booking(s, rules, site=site, service="kela-benefits", start=instant,
                                   minutes=30, channel="on_site", customer=Customer(name="X"),
                                   actor="a", now=instant - timedelta(days=3))
        except BookingRefused as refused:
            return refused.reason
    return "booked"


@pytest.mark.parametrize("site, instant, is_open", [
    ("nurmes", at(2026, 11, 25, 9, 30), False),   # a Wednesday: the house opens at 10
    ("nurmes", at(2026, 11, 25, 10, 30), True),
    ("porvoo", at(2026, 5, 14, 10), False),        # Ascension Day, a Thursday
    ("porvoo", at(2026, 11, 26, 10), False),       # a Thursday closed by a building exception
    ("porvoo", at(2026, 11, 27, 10), True),
], ids=["nurmes-0930", "nurmes-1030", "holiday", "building-exception", "porvoo-open"])
def test_bookings_incident_severity_and_readiness_agree_on_when_a_site_is_open(
        any_store, rules, site, instant, is_open):
    with any_store() as s:
        site_service.set_building_exception(s, site="porvoo", day=at(2026, 11, 26, 0).date(),
                                            spans=[], reason="staff training")
        twin(s, site, "r1", True, ALL_OK, when=instant - timedelta(days=1))
        readiness = visit_readiness(s, registry=rules.registry, site=site, room="r1",
                                    at=instant)
    booked = booking_outcome(any_store, rules, site, instant)
    severity = engine_severity(any_store, rules.registry, site, instant)
    assert (booked == "booked", severity == "critical", readiness.serves) == (is_open,) * 3
    if not is_open:
        assert booked in ("building_closed", "holiday", "outside_hours")
        assert readiness.problems == ("site closed",)


def test_a_missing_call_button_gets_one_answer_from_the_twin_incidents_and_readiness(
        store, rules):
    states = {**ALL_OK, "callbutton": "missing"}
    visit = at(2025, 11, 10, 10)
    with store() as s:
        staff(s)
        twin(s, "porvoo", "r1", True, states)
        service.create_booking(s, rules, site="porvoo", service="kela-benefits", start=visit,
                               minutes=30, channel="on_site", customer=Customer(name="X"),
                               actor="a", now=NOW)
        s.add(Transition(site="porvoo", room="r1", device="callbutton", from_state="ok",
                         to_state="missing", at=NOW.astimezone(UTC)))
        s.commit()
    assert room_condition(True, states) == "degraded"  # the twin's room view: it serves
    assert tick(store, rules, BookingSettings(), now=visit - timedelta(minutes=10)) == {
        "reminders": 0, "not_ready": 0, "purged": 0, "sessions_ended": 0,
        "feedback_asked": 0}  # readiness: no alert
    severity = engine_severity(store, rules.registry, "imatra", visit)  # a busy engine round
    assert severity == "critical"  # the engine itself judges rooms in hours as critical
    with store() as s:
        button = s.scalar(select(Incident).where(Incident.device == "callbutton"))
    assert (button.rule, button.severity) == ("callbutton_missing", "major")  # not "cannot serve"
