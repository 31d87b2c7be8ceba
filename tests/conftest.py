"""Fixtures shared by every test: real servers on free loopback ports."""
from __future__ import annotations

import pytest

from cloud.registry import load_registry

pytest_plugins = ["tests.pages"]  # the browser fixture for every page test

from tests.servers import InfluxDB1, Mosquitto, PostgreSQL, VictoriaMetrics, ensure_debian_packages


def pytest_sessionstart(session: pytest.Session) -> None:
    """Install every missing Debian package in one go before any test runs (in the
    controlling process only: the test processes start after it, and apt takes one at once)."""
    if hasattr(session.config, "workerinput"):
        return
    ensure_debian_packages()


@pytest.fixture
def registry():
    """The pilot registry (Porvoo, Imatra, Nurmes)."""
    return load_registry()


@pytest.fixture
def broker(tmp_path):
    """A fresh Mosquitto for one test (anonymous, persistence on, no queue limits)."""
    with Mosquitto(tmp_path / "mosquitto") as server:
        yield server


@pytest.fixture
def broker_factory(tmp_path):
    """Make Mosquitto servers with custom config lines; all are stopped after the test."""
    servers: list[Mosquitto] = []

    def make(name: str = "mosquitto", **kwargs) -> Mosquitto:
        server = Mosquitto(tmp_path / name, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def victoria(tmp_path):
    """A fresh VictoriaMetrics (the InfluxDB write API) for one test."""
    with VictoriaMetrics(tmp_path / "victoria") as server:
        yield server


@pytest.fixture(scope="session")
def influxdb1(tmp_path_factory):
    """InfluxDB 1.x for InfluxQL queries, shared by the session."""
    with InfluxDB1(tmp_path_factory.mktemp("influxdb")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server shared by the session; make a database per test with
    ``postgres.create_database(name)``."""
    with PostgreSQL(tmp_path_factory.mktemp("postgres")) as server:
        yield server
