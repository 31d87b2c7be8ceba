"""The cloud's own MQTT clients after a broker restart: back within about a second of the
broker, whatever the length of the gap, and over to the standby when the active one dies."""
from __future__ import annotations

import signal
import time

from cloud.settings import CloudSettings
from tests.servers import wait_for


def test_the_ingest_resubscribes_within_a_second_of_a_broker_back_from_a_ten_second_gap(
        broker, cloud_settings, start_worker):
    worker = start_worker(cloud_settings)
    broker.stop(signal.SIGKILL)
    wait_for(lambda: not worker.connected.is_set(), 10, "the loss noticed")
    time.sleep(10)  # the outage itself (the storm has a 10 s gap)
    broker.start()
    back = time.monotonic()
    assert worker.connected.wait(10)
    assert time.monotonic() - back < 1.5


def test_the_ingest_moves_to_the_standby_broker_when_the_active_one_dies(
        broker_factory, database_url, tmp_path, start_worker):
    active, standby = broker_factory("a").start(), broker_factory("b").start()
    settings = CloudSettings(database_url=database_url, spool_file=tmp_path / "spool.sqlite",
                             broker_url=f"{active.url},{standby.url}")
    worker = start_worker(settings)
    active.stop(signal.SIGKILL)
    lost = time.monotonic()
    wait_for(lambda: worker.connected.is_set() and worker._client.port == standby.port, 10,
             "the ingest subscribed on the standby")
    assert time.monotonic() - lost < 3
