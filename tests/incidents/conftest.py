"""Fixtures of the incident tests: a migrated store, real receivers, engines and workers."""
from __future__ import annotations

import uuid

import pytest

from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.flows.incidents import incident_engine
from cloud.incidents.engine import IncidentEngine
from cloud.incidents.settings import IncidentSettings
from cloud.notify.settings import NotifySettings
from cloud.notify.worker import NotifyWorker
from cloud.registry import Registry
from tests.notify import conftest as notify_fixtures

# the notify tests' fixtures, shared: a migrated store and the real receivers
store, smtp = notify_fixtures.store, notify_fixtures.smtp
http_receiver = notify_fixtures.http_receiver


def quick_settings(**overrides) -> IncidentSettings:
    """Incident settings with debounce in seconds rather than minutes."""
    values = {"open_after_s": 1.0, "resolve_after_s": 1.0, "flap_window_s": 60,
              "flap_changes": 6, "flap_open_after_s": 120, "reopen_window_s": 600,
              "poll_interval_s": 0.05, "twin_interval_s": 3600, "housekeeping_interval_s": 0.0,
              "public_url": "https://etapalvelu.example.invalid"}
    return IncidentSettings(**(values | overrides))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    """A migrated store on SQLite, then on PostgreSQL (for rules about time and failover)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")
    migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def open_round_the_clock(registry: Registry, site: str) -> Registry:
    """``registry`` with ``site`` serving every hour of every day (holidays still close)."""
    data = registry.model_dump()
    every_hour = {"mon-sun": ["00:00-24:00"]}
    data["sites"][site] |= {"service_hours": every_hour, "building_hours": every_hour}
    return Registry.model_validate(data)


@pytest.fixture
def notify_worker(store, smtp):
    """Start a notification worker sending to the test's SMTP server."""
    workers: list[NotifyWorker] = []

    def start(**overrides) -> NotifyWorker:
        settings = NotifySettings(**({"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                      "poll_interval_s": 0.05, "retry_base_s": 0.2,
                                      "retry_cap_s": 1.0} | overrides))
        worker = NotifyWorker(store, settings).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def engine_factory(store, registry):
    """Make incident engines on the test's store; running ones are stopped after the test."""
    engines: list[IncidentEngine] = []

    def make(*, fleet=None, **overrides) -> IncidentEngine:
        engine = incident_engine(store, fleet or registry, settings=quick_settings(**overrides))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.stop()
