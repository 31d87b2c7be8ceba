"""Fixtures of the cloud tests: a migrated database, ingest workers, room agents, publishers."""
from __future__ import annotations

import sqlite3
import uuid

import paho.mqtt.client as mqtt
import pytest

from cloud.db import make_engine, migrate
from cloud.ingest.worker import IngestWorker
from cloud.settings import CloudSettings
from edge.agent import Agent
from edge.config import AgentConfig


@pytest.fixture
def database_url(tmp_path) -> str:
    """A migrated SQLite database."""
    url = f"sqlite:///{tmp_path}/cloud.sqlite"
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database(request, tmp_path) -> str:
    """A migrated database of each kind the twin runs on."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/cloud.sqlite"
    else:
        url = request.getfixturevalue("postgres").create_database(f"twin_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return url


@pytest.fixture
def twin(database_url):
    """Run SQL against the twin (read-only use in assertions)."""
    path = database_url.split("///", 1)[1]

    def query(sql: str, *params):
        with sqlite3.connect(path) as db:
            return db.execute(sql, params).fetchall()

    return query


@pytest.fixture
def cloud_settings(broker, database_url, tmp_path):
    """Settings of a cloud on the test's broker and database, telemetry off."""
    return CloudSettings(database_url=database_url, broker_url=broker.url,
                         spool_file=tmp_path / "spool.sqlite")


@pytest.fixture
def start_worker(registry):
    """Start ingest workers; each is stopped after the test."""
    workers: list[IngestWorker] = []

    def start(settings: CloudSettings, **kwargs) -> IngestWorker:
        worker = IngestWorker(settings, registry, engine=make_engine(settings.database_url),
                              **kwargs).start()
        workers.append(worker)
        assert worker.connected.wait(10), "ingest worker did not connect"
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def start_agent(tmp_path):
    """Start simulated room agents (every device simulated); stopped after the test."""
    agents: list[Agent] = []

    def start(site: str, room: str, broker_url: str, **overrides) -> Agent:
        config = AgentConfig(
            site=site, room=room,
            broker={"url": broker_url, "keepalive_s": overrides.pop("keepalive_s", 5),
                    "reconnect_max_s": 2},
            outbox={"path": tmp_path / f"outbox-{site}-{room}.sqlite"},
            intervals=overrides.pop("intervals", {"health_s": 3600, "telemetry_s": 3600}),
            devices=[{"type": t} for t in
                     ("agent", "terminal", "doccam", "callbutton", "occupancy", "network")],
        )
        agent = Agent(config, **overrides).start()
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.stop()


@pytest.fixture
def publisher(broker):
    """A plain paho client on the test's broker (what any third-party device would be)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()
