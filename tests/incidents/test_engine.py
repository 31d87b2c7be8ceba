"""The engine over twin rows written directly, with the real notify worker and SMTP server."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cloud.db import Base, make_engine, migrate
from cloud.incidents import service
from cloud.incidents.engine import IncidentEngine
from cloud.incidents.matrix import SAMPLE_MATRIX, MatrixError
from cloud.incidents.models import Incident, IncidentEvent
from cloud.notify.models import OutboxMessage
from cloud.settings import CloudSettings
from cloud.sites.service import FINNISH_HOLIDAYS
from cloud.twin.models import AgentPresence, DeviceState, Transition
from cloud.web.app import create_app
from tests.incidents.conftest import quick_settings
from tests.servers import wait_for


def _next_working_tuesday() -> datetime:
    """08:00 UTC (10:00 or 11:00 in Helsinki, Porvoo open) of the coming Tuesday that is no
    holiday: action links expire a week after the engine's clock, which the API takes from
    the wall clock, so the test's clock must not lag it."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    while day.weekday() != 1 or day in FINNISH_HOLIDAYS:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC)


T0 = _next_working_tuesday()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def transition(store, device: str, to_state: str, when: datetime, *, site="porvoo", room="r1",
               code=None, id=None) -> None:
    """What the ingest writes: the twin row and the transition log entry."""
    with store() as session:
        if device == "agent":
            session.merge(AgentPresence(site=site, room=room, online=to_state == "online",
                                        since=when, updated_at=when))
        else:
            session.merge(DeviceState(site=site, room=room, device=device, state=to_state,
                                      code=code, state_since=when, last_seen_at=when,
                                      seq_count=0, duplicates=0))
        session.add(Transition(id=id, site=site, room=room, device=device, from_state=None,
                               to_state=to_state, code=code, at=when))
        session.commit()


def incidents(store) -> list[Incident]:
    with store() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def outbox(store, template: str | None = None) -> list[OutboxMessage]:
    with store() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        return list(session.scalars(query))


def test_the_migrations_create_exactly_the_tables_of_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _ours,
                                                                 "include_object": _our_object})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def _ours(name, type_, parent_names) -> bool:
    return type_ != "table" or name.startswith(("incident", "notify_"))


def _our_object(obj, name, type_, reflected, compare_to) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return table.startswith(("incident", "notify_"))


def test_an_agent_offline_for_the_debounce_time_opens_one_incident_for_the_supplier(
        store, engine_factory):
    engine = engine_factory()
    transition(store, "agent", "online", at(0))
    transition(store, "agent", "offline", at(10))
    engine.tick(at(10.5))
    assert incidents(store) == []
    engine.tick(at(11))
    engine.tick(at(12))
    [incident] = incidents(store)
    assert (incident.party, incident.category, incident.rule) == ("supplier", "system",
                                                                 "agent_offline")
    assert incident.severity == "critical"  # Tuesday 10:00, the room is open
    [mail] = outbox(store)
    assert mail.recipient == "servicedesk@supplier.example.invalid" and mail.language == "fi"
    assert mail.context["ack_url"].startswith("https://etapalvelu.example.invalid/api/incidents/")
    assert "customer" not in str(mail.context).lower()


def test_flapping_inside_the_debounce_window_opens_nothing(store, engine_factory):
    engine = engine_factory(open_after_s=30)
    for i in range(100):
        transition(store, "agent", "offline", at(i * 0.2))
        transition(store, "agent", "online", at(i * 0.2 + 0.1))
    for second in range(0, 120, 5):
        engine.tick(at(second))
    assert incidents(store) == []


def test_a_device_fault_while_the_agent_is_offline_gives_only_the_agent_incident(
        store, engine_factory):
    engine = engine_factory()
    transition(store, "doccam", "fault", at(0), code="usb_error")
    transition(store, "agent", "offline", at(0.2))
    for second in range(10):
        engine.tick(at(second))
    assert [i.rule for i in incidents(store)] == ["agent_offline"]


def test_a_device_fault_alone_goes_to_the_supplier_and_a_network_fault_to_valtori(
        store, engine_factory):
    engine = engine_factory()
    transition(store, "doccam", "missing", at(0), code="unplugged")
    transition(store, "network", "fault", at(0), code="link_down", site="imatra")
    for second in range(4):
        engine.tick(at(second))
    found = {(i.site, i.rule, i.party) for i in incidents(store)}
    assert found == {("porvoo", "doccam_missing", "supplier"),
                     ("imatra", "network_fault", "valtori")}


def test_a_silenced_room_opens_no_incident(store, engine_factory):
    silence = {"site": "porvoo", "room": "r1", "device": None, "starts_at": at(-60),
               "ends_at": at(3600), "reason": "maintenance", "actor": "admin", "now": at(-60)}
    with store() as session:
        service.add_silence(session, **silence)
        session.rollback()  # the caller owns the transaction: nothing of it stays
        assert service.silences_not_ended(session, now=at(0)) == []
        service.add_silence(session, **silence)
        session.commit()
    engine = engine_factory()
    transition(store, "terminal", "fault", at(0), code="crashed")
    for second in range(5):
        engine.tick(at(second))
    assert incidents(store) == []


def test_a_cleared_condition_resolves_and_a_return_within_the_window_reopens_it(
        store, engine_factory):
    engine = engine_factory()
    transition(store, "terminal", "fault", at(0), code="crashed")
    engine.tick(at(1.5))
    transition(store, "terminal", "ok", at(2))
    engine.tick(at(2.5))
    assert incidents(store)[0].state == "open"  # recovery not yet held long enough
    engine.tick(at(3.5))
    assert incidents(store)[0].state == "resolved"
    transition(store, "terminal", "fault", at(10), code="crashed")
    engine.tick(at(11.5))
    [incident] = incidents(store)
    assert (incident.state, incident.reopened) == ("open", 1)
    with store() as session:
        kinds = session.scalars(select(IncidentEvent.kind).where(
            IncidentEvent.incident_id == incident.id)).all()
    assert kinds[:1] == ["opened"] and "resolved" in kinds and "reopened" in kinds


def test_a_restarted_engine_neither_loses_a_pending_condition_nor_opens_twice(
        store, engine_factory):
    transition(store, "agent", "offline", at(0))
    first = engine_factory()
    first.tick(at(0.5))  # read, still debouncing
    first.stop()
    second = engine_factory()
    second.tick(at(2))
    assert len(incidents(store)) == 1
    second.stop()
    third = engine_factory()
    third.tick(at(3))
    assert len(incidents(store)) == 1


def test_a_standby_engine_waits_and_takes_over_when_the_lease_runs_out(store, engine_factory):
    leader, standby = engine_factory(), engine_factory()
    leader.tick(at(0))
    standby.tick(at(0))
    assert leader.leading and not standby.leading
    transition(store, "agent", "offline", at(1))
    standby.tick(at(3))
    assert incidents(store) == []  # the standby does not act
    leader.tick(at(3))
    assert len(incidents(store)) == 1
    transition(store, "terminal", "fault", at(10), site="imatra")
    standby.tick(at(12))  # the leader's lease (taken at 0 s for 15 s) still holds
    assert len(incidents(store)) == 1
    standby.tick(at(15.1))  # the leader vanished: its lease ran out
    assert standby.leading
    assert sorted(i.site for i in incidents(store)) == ["imatra", "porvoo"]  # nothing twice


def test_the_clock_starts_when_smtp_accepts_and_a_breach_escalates(store, smtp, engine_factory,
                                                                   notify_worker):
    engine = engine_factory()
    transition(store, "agent", "offline", at(0))
    engine.tick(at(2))
    notify_worker()
    wait_for(lambda: len(smtp.keys()) == 1, 10, "the e-mail to the supplier")
    wait_for(lambda: (engine.tick(at(3)) or incidents(store)[0].state) == "notified", 10,
             "the incident notified")
    [incident] = incidents(store)
    accepted = incident.notified_at
    assert incident.due_at == accepted + timedelta(minutes=30)  # critical
    engine.tick(accepted + timedelta(minutes=31))
    wait_for(lambda: len(smtp.keys()) == 3, 10, "escalation e-mails")
    recipients = sorted(r.to for r in smtp.received[1:])
    assert recipients == ["neuvojat@porvoo.example.invalid",
                          "service-manager@supplier.example.invalid"]
    assert smtp.received[1].subject.startswith("ERÄÄNTYNYT")


def test_the_engine_refuses_a_matrix_with_a_gap(tmp_path, store, registry):
    data = yaml.safe_load(SAMPLE_MATRIX.read_text())
    del data["routes"]["vandalism"]
    path = tmp_path / "gap.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MatrixError, match="gap: no party covers 'vandalism'"):
        IncidentEngine(store, registry, settings=quick_settings(matrix_file=path))


@pytest.fixture
def api(tmp_path, store):
    url = str(store.kw["bind"].url)
    app = create_app(CloudSettings(database_url=url))
    app.state.incident_settings = quick_settings()
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer development-only-admin-token"
        yield client


def test_the_ack_link_works_once_and_expires(store, api, engine_factory):
    engine = engine_factory()
    transition(store, "agent", "offline", at(0))
    engine.tick(at(2))
    [mail] = outbox(store)
    path = mail.context["ack_url"].removeprefix("https://etapalvelu.example.invalid")
    anonymous = {"Authorization": ""}
    assert "<form method=post>" in api.get(path, headers=anonymous).text
    assert incidents(store)[0].state == "open"  # looking at the link does nothing
    first = api.post(path, headers=anonymous)
    assert first.status_code == 200 and first.json()["state"] == "acknowledged"
    assert api.post(path, headers=anonymous).status_code == 410
    assert api.post(path[:-3] + "xyz", headers=anonymous).status_code == 404
    token = mail.context["resolve_url"].rsplit("/", 1)[1]
    with store() as session, pytest.raises(service.LinkError, match="expired"):
        service.use_link(session, token=token, routing=engine.routing, now=at(8 * 86400))


def test_staff_report_list_comment_and_resolve_through_the_api(store, api):
    assert api.get("/api/incidents", headers={"Authorization": "Bearer wrong"}).status_code == 401
    created = api.post("/api/incidents", json={
        "site": "imatra", "room": "r1", "category": "furniture", "owner": "state",
        "summary": "Tuolin selkänoja irti"})
    assert created.status_code == 201, created.text
    incident = created.json()
    assert (incident["party"], incident["manual"]) == ("senaatti", True)
    assert {m.reference for m in outbox(store, "incident_opened")} == {
        f"incident:{incident['id']}:open:0"}  # the report tells the party at once
    threat = api.post("/api/incidents", json={"site": "nurmes", "category": "threat",
                                              "severity": "critical",
                                              "summary": "Uhkaava käytös aulassa"}).json()
    assert threat["party"] == "nurmes-security"
    assert [i["id"] for i in api.get("/api/incidents", params={"party": "senaatti"}).json()] == [
        incident["id"]]
    assert api.post(f"/api/incidents/{incident['id']}/comments",
                    json={"text": "Varaosa tilattu"}).status_code == 201
    assert api.post(f"/api/incidents/{incident['id']}/resolve").json()["state"] == "resolved"
    assert api.post(f"/api/incidents/{incident['id']}/acknowledge").status_code == 409
    detail = api.get(f"/api/incidents/{incident['id']}").json()
    assert [e["kind"] for e in detail["events"]] == [
        "opened", "notification_queued", "comment", "resolved"]
    assert api.post("/api/incidents", json={"site": "imatra", "category": "furniture",
                                            "owner": "nobody", "summary": "x y z"}
                    ).status_code == 422
    assert api.post("/api/incidents", json={"site": "imatra", "room": "r9", "category": "space",
                                            "summary": "x y z"}).status_code == 422
    month = datetime.now(UTC)
    report = api.get(f"/api/incidents/report/{month.year}/{month.month}").json()
    assert {r["party"]: r["incidents"] for r in report} == {"senaatti": 1, "nurmes-security": 1}


def test_a_silence_through_the_api_mutes_a_device(store, api, engine_factory):
    now = datetime.now(UTC)
    response = api.post("/api/incidents/silences", json={
        "site": "porvoo", "room": "r1", "device": "doccam", "reason": "huolto",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat()})
    assert response.status_code == 201
    [silence] = api.get("/api/incidents/silences").json()
    assert silence["ends_at"].endswith("Z") or silence["ends_at"].endswith("+00:00")
    engine = engine_factory()
    transition(store, "doccam", "fault", now)
    engine.tick(now + timedelta(seconds=5))
    with store() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
    assert api.delete(f"/api/incidents/silences/{silence['id']}").status_code == 204
    assert api.get("/api/incidents/silences").json() == []
    engine.tick(datetime.now(UTC) + timedelta(seconds=5))
    assert [i.device for i in incidents(store)] == ["doccam"]


def test_conditions_over_time_come_from_evaluating_the_twin(store, engine_factory):
    from cloud.twin.models import RoomOccupancy

    now = datetime.now(UTC)
    with store() as session:
        session.add_all([
            DeviceState(site="porvoo", room="r1", device="callbutton", state="ok",
                        last_seen_at=now - timedelta(hours=5), seq_count=1, duplicates=0),
            DeviceState(site="imatra", room="r1", device="terminal", state="ok", last_seen_at=now,
                        skew_ms=120_000, seq_count=1, duplicates=0),
            DeviceState(site="nurmes", room="r1", device="network", state="ok", last_seen_at=now,
                        seq_first=1, seq_last=100, seq_count=100, duplicates=0),
            RoomOccupancy(site="nurmes", room="r1", occupied=True, seq=1, device_ts=0,
                          since=now - timedelta(hours=6)),
        ])
        session.commit()
    engine = engine_factory(twin_interval_s=0.0, open_after_s=0.0)
    engine.tick(now)
    with store() as session:  # fifty messages of the network device go missing
        session.get(DeviceState, ("nurmes", "r1", "network")).seq_last = 150
        session.commit()
    engine.tick(now + timedelta(seconds=1))
    engine.tick(now + timedelta(seconds=2))
    found = {(i.site, i.rule, i.party) for i in incidents(store)}
    assert found == {("porvoo", "callbutton_silent", "supplier"),
                     ("imatra", "terminal_clock_skew", "supplier"),
                     ("nurmes", "network_data_loss", "supplier"),
                     ("nurmes", "occupancy_stuck", "supplier")}


def test_a_low_call_button_battery_is_a_minor_incident_for_the_supplier(store, engine_factory):
    engine = engine_factory()
    transition(store, "callbutton", "degraded", at(0), code="battery_low")
    engine.tick(at(2))
    [incident] = incidents(store)
    assert (incident.rule, incident.severity, incident.party) == (
        "callbutton_battery_low", "minor", "supplier")


def test_a_transition_committed_late_behind_a_newer_one_is_still_seen(store, engine_factory):
    """Two ingest writers: id 11 commits first, id 10 a moment later."""
    transition(store, "agent", "online", at(0), id=9)
    engine = engine_factory()
    engine.tick(at(0))
    transition(store, "doccam", "fault", at(1), site="imatra", id=11)
    engine.tick(at(1.2))
    transition(store, "doccam", "fault", at(1), site="nurmes", id=10)
    engine.tick(at(1.4))
    engine.tick(at(3))
    assert sorted(i.site for i in incidents(store)) == ["imatra", "nurmes"]


def test_an_incident_the_party_never_received_is_escalated_when_it_would_be_due(
        tmp_path, store, smtp, http_receiver, engine_factory, notify_worker):
    http_receiver.status = 400  # Valtori's ticketing refuses the request for good
    data = yaml.safe_load(SAMPLE_MATRIX.read_text())
    data["parties"]["valtori"]["channels"] = [{"type": "webhook",
                                               "to": f"{http_receiver.url}/tickets"}]
    (tmp_path / "matrix.yaml").write_text(yaml.safe_dump(data))
    engine = engine_factory(matrix_file=tmp_path / "matrix.yaml")
    transition(store, "network", "fault", at(0), code="link_down")
    engine.tick(at(2))
    notify_worker()
    wait_for(lambda: [m.state for m in outbox(store)] == ["failed"], 10, "the refusal")
    engine.tick(at(2) + timedelta(hours=2))  # past Valtori's 60 minutes
    [incident] = incidents(store)
    assert incident.state == "open" and incident.escalated_at is not None
    wait_for(lambda: len(smtp.keys()) == 2, 10, "escalation e-mails")
    assert sorted(r.to for r in smtp.received) == ["duty@valtori.example.invalid",
                                                   "neuvojat@porvoo.example.invalid"]


def test_an_incident_that_stops_the_room_lists_the_bookings_it_hits(store, api, registry):
    from zoneinfo import ZoneInfo

    import holidays

    from cloud.bookings import service as bookings
    from cloud.bookings.service import BookingRules, Customer

    now = datetime.now(UTC)
    day = now.astimezone(ZoneInfo("Europe/Helsinki")).date() + timedelta(days=2)
    while day.weekday() >= 5 or day in holidays.Finland():
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/Helsinki"))
    with store() as session:
        booked = bookings.create_booking(
            session, BookingRules.load(registry), site="porvoo", service="vero-taxation",
            start=start, minutes=30, channel="on_site", customer=Customer(name="A. A."),
            actor="advisor", now=now)
        session.commit()
    minor = api.post("/api/incidents", json={"site": "porvoo", "room": "r1", "category": "space",
                                             "summary": "Naulakko irti"}).json()
    assert minor["affected_bookings"] == []  # the room still serves
    down = api.post("/api/incidents", json={"site": "porvoo", "room": "r1", "category": "space",
                                            "severity": "critical",
                                            "summary": "Vesivahinko, tila suljettu"}).json()
    (hit,) = down["affected_bookings"]
    assert (hit["id"], hit["service"]) == (booked.id, "vero-taxation")
    assert "A. A." not in str(down)
