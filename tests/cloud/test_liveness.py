"""Liveness of the worker services as their heartbeat components report it: a worker is alive
while its own threads run, whatever other threads of the process are called."""
from __future__ import annotations

from cloud.db import make_engine, make_sessionmaker
from cloud.services import ingest_service, notify_service


def test_a_stopped_notify_worker_is_dead_though_another_of_its_name_still_runs(database_url):
    sessions = make_sessionmaker(make_engine(database_url))
    first, component = notify_service(sessions, name="notify-a")
    second, _ = notify_service(sessions, name="notify-a")  # a second worker, same name
    try:
        assert first.alive and component.probe().alive
        first.stop()
        assert not first.alive
        assert not component.probe().alive and not component.probe().ready
        assert second.alive
    finally:
        second.stop()


def test_an_ingest_worker_is_alive_while_its_processing_thread_runs(cloud_settings, registry):
    worker, component = ingest_service(cloud_settings, registry)
    try:
        assert worker.connected.wait(10), "ingest worker did not connect"
        assert worker.alive and component.probe().alive
    finally:
        worker.stop()
    assert not worker.alive
    assert not component.probe().alive
