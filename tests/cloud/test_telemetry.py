"""Telemetry through the InfluxDB write API into a real server (VictoriaMetrics), read back."""
from __future__ import annotations

import time

import orjson
import pytest

from tests.servers import wait_for

T0 = 1764500000000


def telemetry(seq: int) -> bytes:
    return orjson.dumps({"v": 1, "ts": T0 + seq * 1000, "seq": seq,
                         "metrics": {"cpu_pct": seq / 2, "disk_free_mb": 1000}})


def points(victoria) -> list[int]:
    series = victoria.export("agent_cpu_pct")
    return sorted(ts for timestamps in series.values() for ts in timestamps)


def test_telemetry_points_are_written_with_site_room_device_tags(
        broker, victoria, cloud_settings, start_worker, publisher):
    settings = cloud_settings.model_copy(update={"influx_url": victoria.url})
    worker = start_worker(settings)
    for seq in range(50):
        publisher.publish("etp/v1/imatra/r1/agent/telemetry", telemetry(seq), qos=1)
    wait_for(lambda: worker.telemetry.written >= 50, 20, "points written")
    series = victoria.export("agent_cpu_pct")
    assert list(series) == [(("__name__", "agent_cpu_pct"), ("device", "agent"),
                             ("room", "r1"), ("site", "imatra"))]
    assert points(victoria) == [T0 + seq * 1000 for seq in range(50)]


def test_telemetry_store_down_then_back_loses_no_point(
        broker, victoria, cloud_settings, start_worker, publisher):
    settings = cloud_settings.model_copy(update={"influx_url": victoria.url})
    worker = start_worker(settings)
    publisher.publish("etp/v1/porvoo/r1/agent/telemetry", telemetry(0), qos=1)
    wait_for(lambda: worker.telemetry.written == 1, 20, "first point written")
    victoria.stop()
    for seq in range(1, 3001):
        publisher.publish("etp/v1/porvoo/r1/agent/telemetry", telemetry(seq), qos=1)
    wait_for(lambda: worker.telemetry.spooled_points() == 3000, 30, "points spooled")
    victoria.start()
    wait_for(lambda: worker.telemetry.spooled_points() == 0, 60, "spool drained")
    assert points(victoria) == [T0 + seq * 1000 for seq in range(3001)]


def test_spooled_points_survive_a_restart_of_the_ingest_worker(
        broker, victoria, cloud_settings, start_worker, publisher):
    settings = cloud_settings.model_copy(update={"influx_url": victoria.url})
    victoria.stop()
    worker = start_worker(settings)
    for seq in range(100):
        publisher.publish("etp/v1/nurmes/r1/agent/telemetry", telemetry(seq), qos=1)
    wait_for(lambda: worker.telemetry.spooled_points() == 100, 30, "points spooled")
    worker.stop()
    victoria.start()
    restarted = start_worker(settings)
    wait_for(lambda: restarted.telemetry.spooled_points() == 0, 60, "spool drained after restart")
    assert points(victoria) == [T0 + seq * 1000 for seq in range(100)]


@pytest.mark.soak
def test_telemetry_store_down_for_minutes_then_back_loses_no_point(
        broker, victoria, cloud_settings, start_worker, publisher):
    settings = cloud_settings.model_copy(update={"influx_url": victoria.url})
    worker = start_worker(settings)
    victoria.stop()
    deadline, seq = time.monotonic() + 180, 0
    while time.monotonic() < deadline:  # a room's telemetry through three minutes of outage
        publisher.publish("etp/v1/imatra/r1/agent/telemetry", telemetry(seq), qos=1)
        seq += 1
        time.sleep(0.05)  # pacing the room's sender, not waiting for a result
    wait_for(lambda: worker.telemetry.spooled_points() == seq, 30, "points spooled")
    victoria.start()
    wait_for(lambda: worker.telemetry.spooled_points() == 0, 120, "spool drained")
    assert points(victoria) == [T0 + s * 1000 for s in range(seq)]


def test_a_full_spool_drops_the_oldest_points_and_counts_them_for_an_alarm(
        broker, victoria, cloud_settings, start_worker, publisher, twin):
    settings = cloud_settings.model_copy(update={"influx_url": victoria.url,
                                                 "spool_max_points": 1000})
    victoria.stop()
    worker = start_worker(settings)
    for seq in range(3000):
        publisher.publish("etp/v1/porvoo/r1/agent/telemetry", telemetry(seq), qos=1)
    wait_for(lambda: worker.telemetry.spooled_points() + worker.counts["spool_dropped"] == 3000,
             30, "every point spooled or dropped")
    assert worker.telemetry.spooled_points() <= 1000
    wait_for(lambda: twin("SELECT count FROM ingest_counter WHERE outcome = 'spool_dropped'")
             == [(worker.counts["spool_dropped"],)], 10, "the drop counted for /metrics")
    kept = worker.telemetry.spooled_points()
    victoria.start()
    wait_for(lambda: worker.telemetry.spooled_points() == 0, 60, "spool drained")
    assert points(victoria) == [T0 + seq * 1000 for seq in range(3000 - kept, 3000)]  # newest
