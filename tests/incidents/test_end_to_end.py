"""From the broker to the SMTP server: the real Mosquitto, ingest worker, incident engine,
notify worker and aiosmtpd."""
from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from cloud.db import make_engine
from cloud.incidents.models import Incident
from cloud.ingest.worker import IngestWorker
from cloud.settings import CloudSettings
from tests.incidents.conftest import open_round_the_clock
from tests.incidents.rooms import RoomAgent
from tests.servers import wait_for


@pytest.fixture
def ingest(broker, store, registry, tmp_path):
    """A running ingest worker writing the twin of the test's store."""
    url = str(store.kw["bind"].url)
    settings = CloudSettings(database_url=url, broker_url=broker.url,
                             spool_file=tmp_path / "spool.sqlite")
    worker = IngestWorker(settings, registry, engine=make_engine(url)).start()
    assert worker.connected.wait(10), "ingest did not connect"
    yield worker
    worker.stop()


@pytest.fixture
def rooms(broker):
    """Room agents on the test's broker; closed after the test."""
    made: list[RoomAgent] = []

    def make(site: str = "porvoo", room: str = "r1") -> RoomAgent:
        agent = RoomAgent(broker.port, site, room)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.close()


def incidents(store) -> list[Incident]:
    with store() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def rounds_after(engine, seconds: float):
    """A predicate: the engine has finished a round ``seconds`` from now."""
    from datetime import datetime, timedelta
    target = datetime.now(UTC) + timedelta(seconds=seconds)
    return lambda: engine.last_round_at is not None and engine.last_round_at > target


def test_an_agent_killed_in_opening_hours_gives_one_incident_and_one_email(
        store, smtp, ingest, rooms, engine_factory, notify_worker, registry):
    # the site is open every day, and a week's lead covers any run of holidays
    engine = engine_factory(open_after_s=1.0, fleet=open_round_the_clock(registry, "porvoo"),
                            critical_lead_min=7 * 24 * 60).start()
    notify_worker()
    agent = rooms().connect()
    wait_for(lambda: ingest.counts["accepted"] >= 1, 10, "the agent online in the twin")
    agent.kill()
    wait_for(lambda: len(smtp.keys()) == 1, 30, "the e-mail to the supplier")
    wait_for(lambda: [i.state for i in incidents(store)] == ["notified"], 20, "notified")
    wait_for(rounds_after(engine, 2.0), 20, "the engine to look again")
    [incident] = incidents(store)
    assert (incident.site, incident.rule, incident.party) == ("porvoo", "agent_offline",
                                                             "supplier")
    assert incident.severity == "critical"
    assert incident.due_at == incident.notified_at + timedelta(
        minutes=30)  # a critical clock runs around the clock
    [mail] = smtp.received
    assert mail.to == "servicedesk@supplier.example.invalid"
    assert "agent_offline" in mail.subject and "Porvoo-info" in mail.subject
    assert len(smtp.keys()) == 1


def test_an_agent_flapping_100_times_inside_the_debounce_window_gives_no_incident(
        store, smtp, ingest, rooms, engine_factory, notify_worker):
    engine = engine_factory(open_after_s=4.0, flap_open_after_s=300).start()
    notify_worker()
    started = time.monotonic()
    agent = rooms()
    for _ in range(100):
        agent.blink()
    rooms().connect()  # it ends online
    assert time.monotonic() - started < 4, "the flapping must fit in the debounce window"
    wait_for(lambda: ingest.counts["accepted"] >= 201, 20, "every status ingested")
    wait_for(rounds_after(engine, 5.0), 20, "the debounce window to pass")
    assert incidents(store) == []
    assert smtp.keys() == []


def test_a_doccam_fault_with_the_agent_offline_gives_only_the_agent_incident(
        store, smtp, ingest, rooms, engine_factory, notify_worker):
    engine = engine_factory(open_after_s=3.0).start()  # ingest may split the two in batches
    notify_worker()
    agent = rooms().connect()
    agent.publish("doccam", "health", state="fault", code="usb_error")
    agent.kill()
    wait_for(lambda: len(smtp.keys()) == 1, 30, "the e-mail of the agent incident")
    wait_for(rounds_after(engine, 4.0), 20, "the doccam's debounce to pass")
    assert [i.rule for i in incidents(store)] == ["agent_offline"]
    assert len(smtp.keys()) == 1


@pytest.mark.parametrize("outage_s", [
    2.0, pytest.param(180.0, marks=pytest.mark.soak, id="minutes")])
def test_incidents_raised_while_smtp_is_down_are_each_mailed_once_when_it_returns(
        store, smtp, ingest, rooms, engine_factory, notify_worker, outage_s):
    smtp.stop()
    engine_factory(open_after_s=0.5).start()
    notify_worker(retry_cap_s=max(1.0, outage_s / 10))
    for site in ("porvoo", "imatra", "nurmes"):
        agent = rooms(site).connect()
        agent.publish("terminal", "health", state="fault", code="crashed")
    wait_for(lambda: len(incidents(store)) == 3, 30, "three incidents")
    time.sleep(outage_s)  # the outage is the condition under test
    smtp.start()
    wait_for(lambda: len(smtp.keys()) == 3, 30 + outage_s / 5, "three e-mails")
    wait_for(lambda: {i.state for i in incidents(store)} == {"notified"}, 20, "all notified")
    assert sorted(smtp.by_key().values()) == [1, 1, 1]
