"""National scale: a mass disconnect is one platform incident, nothing is judged while the
ingest has lost the broker, and a round with thousands of openings is bounded and chunked.
The engine over twin rows written directly, on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from cloud.flows.incident_notifications import PartyNotifications
from cloud.flows.incidents import incident_engine
from cloud.incidents.engine import IncidentEngine
from cloud.incidents.mass import MassDisconnect, MassPolicy
from cloud.incidents.models import Incident
from cloud.notify.models import OutboxMessage
from cloud.registry import Registry
from cloud.runtime.broker import Link, contact_of, record_link
from cloud.settings import CloudSettings
from cloud.twin.models import AgentPresence, DeviceState, Transition
from tests.incidents.conftest import quick_settings

T0 = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Helsinki
SUPPLIER_DESK = "servicedesk@supplier.example.invalid"
OPERATOR_DUTY = "duty@operator.example.invalid"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def large_fleet(registry: Registry, rooms: int) -> Registry:
    """The pilot registry with ``rooms`` more rooms at Porvoo (``m0000``...)."""
    data = registry.model_dump()
    template = data["sites"]["porvoo"]["rooms"]["r1"]
    data["sites"]["porvoo"]["rooms"] |= {f"m{i:04d}": template for i in range(rooms)}
    return Registry.model_validate(data)


def agents(store, rooms, state: str, when: datetime) -> None:
    """What the ingest writes when ``rooms``' agents go ``state`` together (one commit)."""
    with store() as session:
        for i, room in enumerate(rooms):
            moment = when + timedelta(milliseconds=i)
            session.merge(AgentPresence(site="porvoo", room=room, online=state == "online",
                                        since=moment, updated_at=moment))
            session.add(Transition(site="porvoo", room=room, device="agent", from_state=None,
                                   to_state=state, at=moment))
        session.commit()


def faults(store, rooms, devices, when: datetime) -> None:
    """Every one of ``devices`` of every room in ``rooms`` reports a fault (one commit)."""
    with store() as session:
        for room in rooms:
            for device in devices:
                session.add(DeviceState(site="porvoo", room=room, device=device, state="fault",
                                        code="test", state_since=when, last_seen_at=when,
                                        seq_count=0, duplicates=0))
                session.add(Transition(site="porvoo", room=room, device=device,
                                       from_state="ok", to_state="fault", code="test", at=when))
        session.commit()


def link(store, connected: bool, changed_at: datetime, now: datetime) -> None:
    """The ingest worker's link to the broker as it records it."""
    with store() as session:
        record_link(session, name="ingest-1", connected=connected, changed_at=changed_at,
                    now=now)
        session.commit()


def incidents(store, rule: str | None = None) -> list[Incident]:
    with store() as session:
        query = select(Incident).order_by(Incident.id)
        if rule:
            query = query.where(Incident.rule == rule)
        return list(session.scalars(query))


def recipients(store) -> list[str]:
    with store() as session:
        return list(session.scalars(select(OutboxMessage.recipient)))


def engine_on(store, fleet: Registry, **overrides) -> IncidentEngine:
    return incident_engine(store, fleet, settings=quick_settings(**overrides))


ROOMS = [f"m{i:04d}" for i in range(2000)]


def test_two_thousand_rooms_offline_together_are_one_platform_incident_for_the_operator(
        any_store, registry):
    fleet = large_fleet(registry, len(ROOMS))
    engine = engine_on(any_store, fleet, open_after_s=5, mass_settle_s=20)
    agents(any_store, ROOMS, "online", at(0))
    engine.tick(at(1))
    agents(any_store, ROOMS, "offline", at(10))  # every Last Will at once
    for second in (11, 13, 16, 20, 25):
        engine.tick(at(second))
    [platform] = incidents(any_store)
    assert (platform.rule, platform.category, platform.party) == ("mass_disconnect",
                                                                 "platform", "operator")
    assert platform.room is None and platform.severity == "critical"
    assert "2000 of 2003 rooms" in platform.summary
    assert SUPPLIER_DESK not in recipients(any_store)
    assert recipients(any_store) == [OPERATOR_DUTY]

    agents(any_store, ROOMS[5:], "online", at(30))  # all back but five
    for second in (31, 33, 40):
        engine.tick(at(second))
    [platform] = incidents(any_store)
    assert platform.state == "resolved"
    assert incidents(any_store, "agent_offline") == []  # the others came back only just

    engine.tick(at(52))  # the five are still offline well after the others came back
    stragglers = incidents(any_store, "agent_offline")
    assert sorted(i.room for i in stragglers) == ROOMS[:5]
    assert {i.party for i in stragglers} == {"supplier"}


def test_one_room_going_offline_alone_in_a_large_fleet_still_opens_its_incident(
        any_store, registry):
    fleet = large_fleet(registry, len(ROOMS))
    engine = engine_on(any_store, fleet, open_after_s=5)
    agents(any_store, ROOMS, "online", at(0))
    engine.tick(at(1))
    agents(any_store, ["m0042"], "offline", at(10))
    for second in (11, 16, 17):
        engine.tick(at(second))
    [incident] = incidents(any_store)
    assert (incident.rule, incident.room, incident.party) == ("agent_offline", "m0042",
                                                             "supplier")
    assert recipients(any_store) == [SUPPLIER_DESK]


def test_no_room_is_judged_while_the_ingest_has_lost_the_broker_nor_during_the_grace(
        any_store, registry):
    engine = engine_on(any_store, registry, open_after_s=5, link_grace_s=30)
    link(any_store, True, at(0), at(0))
    agents(any_store, ["r1"], "online", at(0))
    engine.tick(at(1))
    link(any_store, False, at(2), at(2))  # the broker is gone
    agents(any_store, ["r1"], "offline", at(3))  # a will, or a stale picture
    for second in (4, 8, 12, 16):
        link(any_store, False, at(2), at(second))  # the worker's refresh
        engine.tick(at(second))
    [lost] = incidents(any_store)  # only the platform's: the room is not judged
    assert (lost.rule, lost.party) == ("broker_unreachable", "operator")
    link(any_store, True, at(20), at(20))
    for second in (21, 23, 30, 45):
        link(any_store, True, at(20), at(second))
        engine.tick(at(second))
    assert [i.state for i in incidents(any_store)] == ["resolved"]
    link(any_store, True, at(20), at(51))
    engine.tick(at(51))  # the grace is over and the room is still offline: its own incident
    assert [i.rule for i in incidents(any_store, "agent_offline")] == ["agent_offline"]


def test_a_round_with_sixteen_thousand_openings_is_bounded_and_commits_in_chunks(
        any_store, registry):
    rooms = [f"m{i:04d}" for i in range(4000)]
    fleet = large_fleet(registry, len(rooms))
    engine = engine_on(any_store, fleet, open_after_s=5, round_changes_max=500,
                       commit_every=100)
    faults(any_store, rooms, ("terminal", "doccam", "network", "callbutton"), at(0))
    engine.tick(at(1))
    commits = []
    event.listen(any_store, "after_commit", lambda _session: commits.append(time.monotonic()))
    started = time.monotonic()
    engine.tick(at(10))  # 16,000 conditions are due at once
    took = time.monotonic() - started
    assert took < CloudSettings().heartbeat_stale_s / 2, took
    assert len(incidents(any_store)) == 500
    assert engine.progress >= 4 and len(commits) >= 5  # chunk by chunk, each committed
    engine.tick(at(11))
    assert len(incidents(any_store)) == 1000  # the rest come in the next rounds


class FailingNotifications(PartyNotifications):
    """The parties' notifications, whose database fails on the second opening."""

    def __init__(self) -> None:
        self.calls = 0

    def opened(self, session, **kwargs) -> None:
        self.calls += 1
        if self.calls == 2:
            raise OperationalError("INSERT", {}, Exception("the database went away"))
        super().opened(session, **kwargs)


def test_a_round_rolled_back_logs_no_incident_as_opened(any_store, registry, caplog):
    caplog.set_level(logging.INFO, logger="cloud")
    fleet = large_fleet(registry, 3)
    engine = IncidentEngine(any_store, fleet, settings=quick_settings(open_after_s=5),
                            notifications=FailingNotifications())
    agents(any_store, ["m0000", "m0001", "m0002"], "online", at(0))
    engine.tick(at(1))
    agents(any_store, ["m0000", "m0001", "m0002"], "offline", at(2))
    assert engine.run_round(at(3)) and not engine.run_round(at(10))
    assert incidents(any_store) == []
    assert not [r for r in caplog.records if "incidents.opened" in r.getMessage()]
    assert engine.run_round(at(12))  # the next round rebuilds from the store and opens
    opened = [r for r in caplog.records if "incidents.opened" in r.getMessage()]
    assert len(incidents(any_store)) == len(opened) == 3


def test_a_mass_disconnect_takes_enough_rooms_within_its_window_and_ends_below_it():
    policy = MassPolicy(window=timedelta(seconds=60), min_rooms=10, fraction=0.05,
                        settle=timedelta(seconds=30))
    mass = MassDisconnect(policy)
    assert policy.threshold(100) == 10 and policy.threshold(10_000) == 500
    slow = {("s", f"r{i}"): at(-600) for i in range(50)}  # offline for long: room faults
    mass.update(slow, 100, at(0))
    assert not mass.active
    burst = slow | {("s", f"b{i}"): at(i / 10) for i in range(10)}
    mass.update(burst, 100, at(2))
    assert mass.active and mass.holds(("s", "b3"), at(2)) and not mass.holds(("s", "r1"), at(2))
    mass.update(slow | {("s", "b1"): at(0)}, 100, at(20))
    assert not mass.active and mass.holds(("s", "b1"), at(49))
    assert not mass.holds(("s", "b1"), at(51))


def test_the_broker_counts_as_lost_while_a_live_worker_has_lost_it():
    stale = timedelta(seconds=60)
    up = Link(True, at(0), at(100))
    down = Link(False, at(90), at(100))
    assert contact_of([up, down], at(110), stale).lost_since == at(90)
    assert not contact_of([up, Link(False, at(0), at(10))], at(110), stale).lost  # gone
    assert not contact_of([], at(110), stale).lost
    back = Link(True, at(95), at(100), recovered=True)
    contact = contact_of([up, back], at(110), stale)
    assert contact.back_at == at(95) and not contact.settled(at(110), timedelta(seconds=30))
    assert contact.settled(at(126), timedelta(seconds=30))


def test_two_thousand_wills_in_one_burst_through_the_real_broker_open_one_platform_incident(
        broker, store, registry, tmp_path):
    from cloud.db import make_engine
    from cloud.ingest.worker import IngestWorker
    from tests.incidents.rooms import WillOnlyAgent
    from tests.servers import wait_for

    fleet = large_fleet(registry, len(ROOMS))
    url = str(store.kw["bind"].url)
    ingest = IngestWorker(CloudSettings(database_url=url, broker_url=broker.url,
                                        spool_file=tmp_path / "spool.sqlite"), fleet,
                          engine=make_engine(url)).start()
    engine = engine_on(store, fleet, open_after_s=5).start()
    rooms = [WillOnlyAgent(broker.port, "porvoo", room) for room in ROOMS]
    try:
        assert ingest.connected.wait(10), "ingest did not connect"
        for agent in rooms:
            agent.connect()
        wait_for(lambda: online(store) == len(ROOMS), 60, "every room online in the twin")
        for agent in rooms:
            agent.kill()  # the broker publishes every Last Will
        wait_for(lambda: online(store) == 0, 60, "every will in the twin")
        last_will = datetime.now(UTC)
        wait_for(lambda: engine.last_round_at and engine.last_round_at
                 > last_will + timedelta(seconds=8), 60, "the engine past the debounce")
        [platform] = incidents(store)
        assert (platform.rule, platform.party) == ("mass_disconnect", "operator")
        assert incidents(store, "agent_offline") == []
        assert SUPPLIER_DESK not in recipients(store)
    finally:
        engine.stop()
        ingest.stop()


def online(store) -> int:
    with store() as session:
        return len(session.scalars(select(AgentPresence.room).where(
            AgentPresence.online.is_(True))).all())


def test_the_migrations_make_the_broker_link_table_of_its_model(any_store):
    from tests.store import schema_differences

    url = any_store.kw["bind"].url.render_as_string(hide_password=False)
    assert schema_differences(url, "'runtime_broker_link'") == []
