"""Fixtures of the link-probe tests: the cloud's API on a real port, coturn, an ingest
worker and a room agent that probes."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from cloud.db import make_engine
from cloud.ingest.worker import IngestWorker
from cloud.probe.settings import DEVELOPMENT_SECRET
from cloud.probe.tokens import room_token
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from edge.agent import Agent
from edge.config import LinkProbe, simulated_config
from tests.incidents import conftest as incident_fixtures
from tests.notify import conftest as notify_fixtures
from tests.pages import serve
from tests.servers import Server

TURN_USER, TURN_PASSWORD = "probe", "probe-test-credential"


@dataclass
class Coturn(Server):
    """Debian's coturn on loopback with one long-term credential; its relays on 127.0.0.1."""

    def command(self) -> list[str]:
        low = 49152 + (self.port % 100) * 100  # a relay range of its own per server
        return ["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}", f"--min-port={low}", f"--max-port={low + 99}",
                "--lt-cred-mech", f"--user={TURN_USER}:{TURN_PASSWORD}",
                "--realm=etapalvelu.example.invalid", "--no-tls", "--no-dtls", "--no-cli",
                "--fingerprint", "--allow-loopback-peers", "--no-software-attribute",
                f"--pidfile={self.workdir / 'turn.pid'}", f"--userdb={self.workdir / 'turndb'}",
                f"--log-file={self.workdir / 'turn.log'}", "--simple-log"]


@pytest.fixture
def coturn(tmp_path):
    """A fresh coturn for one test."""
    with Coturn(tmp_path / "coturn") as server:
        yield server


# migrated stores: ``store`` on SQLite, ``any_store`` on SQLite then PostgreSQL
store, any_store = notify_fixtures.store, incident_fixtures.any_store


def url_of(sessions) -> str:
    """The database URL of a sessionmaker, password included."""
    return sessions.kw["bind"].url.render_as_string(hide_password=False)


@pytest.fixture
def cloud_api(tmp_path, registry, monkeypatch):
    """Start the cloud's API (with the probe endpoint) on a store (a sessionmaker); returns its URL, the app
    and a function that stops it; stopped after the test. ``ETP_PROBE_*`` settings come from
    the keyword arguments."""
    stops = []

    def start(sessions, **probe) -> tuple[str, object, object]:
        for name, value in probe.items():
            monkeypatch.setenv(f"ETP_PROBE_{name.upper()}", str(value))
        app = create_app(CloudSettings(database_url=url_of(sessions)), registry=registry)
        base, stop = serve(app)
        stops.append(stop)
        return base, app, stop

    yield start
    for stop in stops:
        stop()  # a second stop of a stopped server does nothing


@pytest.fixture
def ingest(broker, tmp_path, registry):
    """Start an ingest worker on a store, a sessionmaker (telemetry to ``influx_url`` when
    given)."""
    workers = []

    def start(sessions, influx_url: str | None = None) -> IngestWorker:
        url = url_of(sessions)
        settings = CloudSettings(database_url=url, broker_url=broker.url,
                                 spool_file=tmp_path / f"spool-{len(workers)}.sqlite",
                                 influx_url=influx_url)
        worker = IngestWorker(settings, registry, engine=make_engine(url)).start()
        assert worker.connected.wait(10), "ingest did not connect"
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def probing_agent(broker, tmp_path):
    """Start a simulated room agent whose link probe targets ``cloud``."""
    agents = []

    def start(cloud: str, site: str = "imatra", room: str = "r1", **probe) -> Agent:
        settings = {"url": cloud, "token": room_token(DEVELOPMENT_SECRET, site, room),
                    "every_s": 3600, "pings": 200} | probe
        config = simulated_config(site, room, outbox_path=tmp_path / f"outbox-{room}.sqlite",
                                  broker_url=broker.url, health_s=1.0, telemetry_s=3600,
                                  synchronous="NORMAL", probe=LinkProbe(**settings))
        agent = Agent(config).start()
        agents.append(agent)
        assert agent.wait_connected(10)
        return agent

    yield start
    for agent in agents:
        agent.stop()
