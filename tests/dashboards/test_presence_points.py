"""The agent's presence reaches the telemetry store as the ``status`` measurement the
operations dashboard's offline panels read: one point per change the twin applied, at the
cloud's receive time, so a late Last Will of an earlier connection writes nothing."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import orjson

from tests.servers import wait_for

T0 = 1764500000000


def status(state: str, gen: int) -> bytes:
    return orjson.dumps({"v": 1, "ts": T0 + gen, "seq": 0, "state": state, "gen": gen})


def offline_points(victoria) -> list[tuple[int, float]]:
    """(time, offline) of every ``status`` point, oldest first."""
    urllib.request.urlopen(f"{victoria.url}/internal/force_flush", timeout=10).read()
    query = urllib.parse.urlencode({"match[]": '{__name__="status_offline"}'})
    with urllib.request.urlopen(f"{victoria.url}/api/v1/export?{query}", timeout=10) as answer:
        rows = [json.loads(line) for line in answer.read().splitlines() if line.strip()]
    assert all(row["metric"] == {"__name__": "status_offline", "site": "porvoo", "room": "r1",
                                 "device": "agent"} for row in rows)
    return sorted((ts, value) for row in rows
                  for ts, value in zip(row["timestamps"], row["values"], strict=True))


def test_presence_changes_are_written_at_receive_time_and_a_late_last_will_is_not(
        broker, victoria, cloud_settings, start_worker, publisher):
    worker = start_worker(cloud_settings.model_copy(update={"influx_url": victoria.url}))
    topic = "etp/v1/porvoo/r1/agent/status"
    before = int(time.time() * 1000)
    publisher.publish(topic, status("online", 2), qos=1)  # the reconnect's birth, first
    wait_for(lambda: worker.counts["accepted"] == 1, 10, "online committed")
    publisher.publish(topic, status("offline", 1), qos=1)  # the old connection's Last Will
    publisher.publish(topic, status("online", 2), qos=1)  # a repeat
    publisher.publish(topic, status("offline", 2), qos=1)  # now the live connection ends
    wait_for(lambda: worker.counts["accepted"] == 4, 10, "all four committed")
    wait_for(lambda: len(offline_points(victoria)) == 2, 20, "two presence points")
    (online_at, online), (offline_at, offline) = offline_points(victoria)
    assert (online, offline) == (0.0, 1.0)
    assert before <= online_at <= offline_at <= int(time.time() * 1000)  # not the devices' T0
