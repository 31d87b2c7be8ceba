"""An engine that cannot wedge: failover mid-recovery, a room whose rule fails, an engine that
keeps failing, stuck occupancy that clears, a resolve by hand while the fault holds, and flap
history across a restart. Each on SQLite and on PostgreSQL."""
from __future__ import annotations

import itertools
import threading
from datetime import UTC, timedelta

from sqlalchemy import event, select

from cloud.db import make_engine, make_sessionmaker
from cloud.flows import incidents as journey
from cloud.incidents.engine import IncidentEngine
from cloud.incidents.models import Incident
from cloud.twin import service as twin
from cloud.twin.models import RoomOccupancy
from tests.incidents.conftest import quick_settings
from tests.incidents.test_engine import T0, at, transition
from tests.servers import wait_for


def incidents(store) -> list[Incident]:
    with store() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def engine_on(store, registry, **overrides) -> IncidentEngine:
    return journey.incident_engine(store, registry, settings=quick_settings(**overrides))


def test_an_engine_taking_over_during_a_pending_recovery_resolves_it_and_still_detects(
        any_store, registry):
    first = engine_on(any_store, registry)
    transition(any_store, "terminal", "fault", at(0), code="crashed")
    first.tick(at(1.5))
    transition(any_store, "terminal", "ok", at(2))
    first.tick(at(2.5))  # the recovery is seen, not yet held for resolve_after (1 s)
    assert [i.state for i in incidents(any_store)] == ["open"]
    first.stop()
    second = engine_on(any_store, registry)
    second.tick(at(2.6))
    assert second.leading
    second.tick(at(3.5))
    assert [i.state for i in incidents(any_store)] == ["resolved"]
    transition(any_store, "doccam", "fault", at(4), site="imatra", code="usb_error")
    second.tick(at(4.2))
    second.tick(at(5.5))
    assert [(i.site, i.state) for i in incidents(any_store)] == [("porvoo", "resolved"),
                                                                 ("imatra", "open")]


def test_a_room_whose_rule_fails_is_counted_and_the_other_rooms_still_get_incidents(
        any_store, registry):
    engine = engine_on(any_store, registry)
    # a room of a site since removed from the registry: its rule cannot place it (no hours)
    transition(any_store, "terminal", "fault", at(0), site="espoo", code="crashed")
    transition(any_store, "terminal", "fault", at(0), code="crashed")
    engine.tick(at(0.5))
    engine.tick(at(2))
    engine.tick(at(3))
    assert [(i.site, i.rule) for i in incidents(any_store)] == [("porvoo", "terminal_fault")]
    assert engine.counts["rule_errors"] >= 2  # one per round, logged each time


def refuse_incident_inserts(url: str):
    """Sessions whose connections may not open incidents (a role without the grant, say),
    while other connections to the same database may."""
    engine = make_engine(url)
    if url.startswith("sqlite"):
        sql = ("CREATE TEMP TRIGGER refuse_incidents BEFORE INSERT ON main.incident "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_incidents() RETURNS trigger AS $$ BEGIN "
                "IF current_setting('etp.refuse_incidents', true) = 'on' THEN "
                "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_incidents BEFORE INSERT ON incident "
                "FOR EACH ROW EXECUTE FUNCTION refuse_incidents()")
        engine.dispose()
        engine = make_engine(url)
        sql = "SET etp.refuse_incidents = 'on'"

    @event.listens_for(engine, "connect")
    def _refuse(connection, _record):
        cursor = connection.cursor()
        cursor.execute(sql)
        cursor.close()
        if not url.startswith("sqlite"):
            connection.commit()

    return make_sessionmaker(engine)


def test_an_engine_whose_rounds_keep_failing_hands_its_lease_to_a_standby(any_store, registry):
    broken = engine_on(refuse_incident_inserts(str(any_store.kw["bind"].url)), registry,
                       give_up_after_failures=3)
    standby = engine_on(any_store, registry)
    assert broken.run_round(at(0)) and broken.leading
    transition(any_store, "agent", "offline", at(0.1))
    outcomes = [broken.run_round(at(2 + i / 10)) for i in range(3)]
    assert outcomes == [False, False, False]
    assert not broken.leading and broken.counts["stepped_down"] == 1
    assert standby.run_round(at(2.4)) and standby.leading
    assert broken.run_round(at(2.5)) and not broken.leading  # it stays out, calmly
    standby.run_round(at(2.6))
    assert [(i.rule, i.state) for i in incidents(any_store)] == [("agent_offline", "open")]


def test_a_stuck_occupancy_resolves_when_the_room_is_free_again(any_store, registry):
    def occupancy(n: int, occupied: bool, when):  # what the ingest keeps of the room
        with any_store() as session:
            session.merge(RoomOccupancy(site="nurmes", room="r1", occupied=occupied, since=when,
                                        seq=n, device_ts=0))
            session.commit()

    occupancy(1, True, at(-5 * 3600))
    engine = engine_on(any_store, registry, twin_interval_s=0.0)
    engine.tick(at(0))
    engine.tick(at(1.5))
    assert [(i.rule, i.state) for i in incidents(any_store)] == [("occupancy_stuck", "open")]
    occupancy(2, False, at(2))
    engine.tick(at(2.5))
    engine.tick(at(4))
    assert [(i.rule, i.state) for i in incidents(any_store)] == [
        ("occupancy_stuck", "resolved")]


def test_an_incident_resolved_by_hand_while_its_fault_holds_reopens(any_store, registry):
    engine = engine_on(any_store, registry)
    transition(any_store, "doccam", "fault", at(0), code="usb_error")
    engine.tick(at(1.5))
    with any_store() as session:
        [incident] = session.scalars(select(Incident)).all()
        journey.resolve(session, incident=incident, actor="advisor-porvoo", now=at(2))
        session.commit()
    engine.tick(at(2.5))
    assert [i.state for i in incidents(any_store)] == ["resolved"]  # the fault may be gone
    engine.tick(at(3.5))  # the fault has held open_after (1 s) since the resolve
    [incident] = incidents(any_store)
    assert (incident.state, incident.reopened) == ("open", 1)


def test_a_resolve_by_hand_after_the_fault_cleared_stays_resolved(any_store, registry):
    engine = engine_on(any_store, registry, resolve_after_s=60)
    transition(any_store, "doccam", "fault", at(0), code="usb_error")
    engine.tick(at(1.5))
    transition(any_store, "doccam", "ok", at(2))
    with any_store() as session:
        [incident] = session.scalars(select(Incident)).all()
        journey.resolve(session, incident=incident, actor="advisor-porvoo", now=at(3))
        session.commit()
    for second in (4, 10, 70):
        engine.tick(at(second))
    assert [(i.state, i.reopened) for i in incidents(any_store)] == [("resolved", 0)]


def flap(store, engine, seconds: range) -> None:
    """The agent drops and returns every 5 s; the engine looks half a second after each."""
    for second in seconds:
        state = "offline" if second % 10 == 0 else "online"
        transition(store, "agent", state, at(second))
        engine.tick(at(second + 0.5))


def test_flap_history_survives_an_engine_restart(any_store, registry):
    # 6 changes in 60 s are flapping; flapping for 120 s opens an incident
    first = engine_on(any_store, registry)
    flap(any_store, first, range(0, 100, 5))
    assert incidents(any_store) == []
    first.stop()
    second = engine_on(any_store, registry)
    flap(any_store, second, range(100, 140, 5))
    [incident] = incidents(any_store)
    assert incident.flapping and incident.rule == "agent_offline"
    opened = incident.opened_at if incident.opened_at.tzinfo else incident.opened_at.replace(
        tzinfo=UTC)
    assert opened <= T0 + timedelta(seconds=131)  # as if no restart: flapping since ~5 s


def test_a_pending_debounce_survives_an_engine_restart(any_store, registry):
    first = engine_on(any_store, registry, open_after_s=60)
    transition(any_store, "network", "fault", at(0), code="link_down")
    first.tick(at(30))
    first.stop()
    second = engine_on(any_store, registry, open_after_s=60)
    second.tick(at(59))
    assert incidents(any_store) == []
    second.tick(at(60.5))
    assert [i.rule for i in incidents(any_store)] == ["network_fault"]


def test_two_engines_starting_together_on_an_empty_store_both_come_up_without_a_failed_round(
        any_store, registry, monkeypatch):
    # both engines find no cursor row before either writes one: the first start of two hosts
    both_looked = threading.Barrier(2, timeout=10)
    calls = itertools.count()
    newest = twin.last_transition_id

    def together(*, db):
        found = newest(db=db)
        if next(calls) < 2:
            both_looked.wait()
        return found

    monkeypatch.setattr(twin, "last_transition_id", together)
    engines = [engine_on(any_store, registry, poll_interval_s=0.05) for _ in range(2)]
    for engine in engines:
        engine.start()
    try:
        wait_for(lambda: all(e.last_round_at is not None for e in engines), 20,
                 "both engines to finish a round")
        assert [e.counts["failed_rounds"] for e in engines] == [0, 0]
        assert sorted(e.leading for e in engines) == [False, True]
    finally:
        for engine in engines:
            engine.stop()
