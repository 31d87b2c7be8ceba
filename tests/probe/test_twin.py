"""The twin keeps each room's newest link probe, whatever order the figures arrive in, and
refuses half a measurement as a counted drop."""
from __future__ import annotations

import orjson
import paho.mqtt.client as mqtt
import pytest

from cloud.twin.models import RoomLink
from tests.servers import wait_for

FIGURES = {"probe_rtt_ms": 20.0, "probe_jitter_ms": 1.0, "probe_loss_up_pct": 0.0,
           "probe_loss_down_pct": 0.0, "probe_bitrate_kbps": 3000.0, "probe_setup_ms": 90.0}
TOPIC = "etp/v1/porvoo/r1/network/telemetry"


@pytest.fixture
def publisher(broker):
    """A plain paho client on the test's broker."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def probe_message(seq: int, **figures) -> bytes:
    return orjson.dumps({"v": 1, "ts": 1764500000000 + seq, "seq": seq,
                         "metrics": FIGURES | figures})


def test_a_late_older_probe_does_not_replace_the_newer_link(any_store, ingest, publisher):
    worker = ingest(any_store)
    publisher.publish(TOPIC, probe_message(7, probe_rtt_ms=180.0), qos=1).wait_for_publish(5)
    wait_for(lambda: worker.counts["accepted"] >= 1, 10, "the newer probe")
    publisher.publish(TOPIC, probe_message(6, probe_rtt_ms=15.0), qos=1).wait_for_publish(5)
    wait_for(lambda: worker.counts["accepted"] >= 2, 10, "the older probe")
    with any_store() as session:
        link = session.get(RoomLink, ("porvoo", "r1"))
        assert (link.seq, link.rtt_ms) == (7, 180.0)


def test_half_a_measurement_is_dropped_and_counted_and_the_link_kept(any_store, ingest,
                                                                     publisher):
    worker = ingest(any_store)
    publisher.publish(TOPIC, probe_message(1), qos=1).wait_for_publish(5)
    partial = orjson.dumps({"v": 1, "ts": 1764500000009, "seq": 2,
                            "metrics": {"probe_rtt_ms": 900.0}})
    publisher.publish(TOPIC, partial, qos=1).wait_for_publish(5)
    wait_for(lambda: worker.counts["accepted"] + worker.counts["schema"] >= 2, 10, "both")
    assert worker.counts["schema"] == 1
    with any_store() as session:
        assert session.get(RoomLink, ("porvoo", "r1")).rtt_ms == 20.0
